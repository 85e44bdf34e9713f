using System.Text.Json.Nodes;
using BulletNative.Format;

namespace BulletNative.Tokenizer;

/// <summary>Settings of tokenizer training, with their defaults and limits in one place.</summary>
public sealed record TokenizerTrainingOptions
{
    /// <summary>Smallest and largest vocabulary a caller may ask for.</summary>
    public const int MinVocabSize = 64, MaxVocabSize = 32_000;

    /// <summary>Largest number of tokens (a bpe target; for char, a ceiling the alphabet must fit under).</summary>
    public int VocabSize { get; init; } = 4000;

    /// <summary>bpe learns merges; char stops at the characters.</summary>
    public TokenizerMode Mode { get; init; } = TokenizerMode.Bpe;

    /// <summary>Training stops when the most frequent pair occurs fewer times than this.</summary>
    public long MinPairFrequency { get; init; } = 1;

    /// <summary>When set, only this many characters (the most frequent; " " not counted) enter the vocabulary; the rest encode as id 0.</summary>
    public int? MaxAlphabet { get; init; }

    /// <summary>What to do with bytes that are not UTF-8.</summary>
    public InvalidUtf8Handling InvalidUtf8 { get; init; } = InvalidUtf8Handling.Error;

    /// <summary>Throws BulletArgumentException naming the first bad setting.</summary>
    public void Validate()
    {
        if (VocabSize is < MinVocabSize or > MaxVocabSize)
            throw new BulletArgumentException($"vocab_size {VocabSize} must be between {MinVocabSize} and {MaxVocabSize}");
        if (MinPairFrequency < 1)
            throw new BulletArgumentException($"min_pair_frequency {MinPairFrequency} must be at least 1");
        if (MaxAlphabet is < 1)
            throw new BulletArgumentException($"max_alphabet {MaxAlphabet} must be at least 1");
    }

    private static readonly string[] s_keys = ["vocab_size", "mode", "min_pair_frequency", "max_alphabet", "invalid_utf8"];

    /// <summary>Reads options from JSON (keys vocab_size, mode, min_pair_frequency, max_alphabet, invalid_utf8); unknown keys are an error.</summary>
    public static TokenizerTrainingOptions FromJson(JsonObject json)
    {
        var options = new TokenizerTrainingOptions();
        var read = JsonFields.Options;
        foreach (var (key, value) in json)
        {
            options = key switch
            {
                "vocab_size" => options with { VocabSize = read.Int(value, key) },
                "mode" => options with { Mode = ParseMode(read.String(value, key)) },
                "min_pair_frequency" => options with { MinPairFrequency = read.Long(value, key) },
                "max_alphabet" => options with { MaxAlphabet = value is null ? null : read.Int(value, key) },
                "invalid_utf8" => options with
                {
                    InvalidUtf8 = read.String(value, key) switch
                    {
                        "error" => InvalidUtf8Handling.Error,
                        "replace" => InvalidUtf8Handling.Replace,
                        var other => throw new BulletArgumentException($"invalid_utf8 \"{other}\" must be \"error\" or \"replace\""),
                    },
                },
                _ => throw read.Unknown(key, "tokenizer option", s_keys),
            };
        }
        options.Validate();
        return options;
    }

    /// <summary>Parses "bpe" or "char".</summary>
    public static TokenizerMode ParseMode(string mode) => mode switch
    {
        "bpe" => TokenizerMode.Bpe,
        "char" => TokenizerMode.Char,
        _ => throw new BulletArgumentException($"mode \"{mode}\" must be \"bpe\" or \"char\""),
    };
}

/// <summary>What training did: the vocabulary reached, why it stopped, which characters were left out.</summary>
public sealed record TokenizerTrainingReport
{
    /// <summary>The mode trained: Bpe learned merges, Char stopped at the characters.</summary>
    public required TokenizerMode Mode { get; init; }
    /// <summary>The vocab_size the options asked for.</summary>
    public required int RequestedVocabSize { get; init; }
    /// <summary>Tokens the vocabulary holds: the unknown token, " ", the kept characters and one per merge (at most the requested size).</summary>
    public required int VocabSize { get; init; }
    /// <summary>Merges learned (0 in char mode).</summary>
    public required int Merges { get; init; }
    /// <summary>Characters in the vocabulary, not counting " " and the unknown token.</summary>
    public required int AlphabetSize { get; init; }
    /// <summary>Distinct characters left out by max_alphabet (they encode as id 0).</summary>
    public required int DroppedCharacters { get; init; }
    /// <summary>How often the characters left out by max_alphabet occur in the text.</summary>
    public required long DroppedOccurrences { get; init; }
    /// <summary>The most frequent dropped characters (at most 20) with their counts.</summary>
    public required IReadOnlyList<(string Character, long Count)> DroppedExamples { get; init; }
    /// <summary>The min_pair_frequency training ran with.</summary>
    public required long MinPairFrequency { get; init; }
    /// <summary>The max_alphabet training ran with; null when the alphabet was not capped.</summary>
    public required int? MaxAlphabet { get; init; }
    /// <summary>"vocab_size reached", "no pairs left", "min_pair_frequency" or "characters only".</summary>
    public required string StopReason { get; init; }
    /// <summary>UTF-8 bytes trained on, after the BOM was skipped and invalid sequences replaced.</summary>
    public required long TextBytes { get; init; }
    /// <summary>Word pieces counted in the text, spaces not counted.</summary>
    public required long Words { get; init; }
    /// <summary>Distinct word pieces, the units merges are learned over.</summary>
    public required long DistinctWords { get; init; }
    /// <summary>Whether the text began with a UTF-8 byte order mark, which was skipped.</summary>
    public required bool BomSkipped { get; init; }
    /// <summary>Invalid UTF-8 sequences replaced with U+FFFD (only with invalid_utf8 "replace"; else they are an error).</summary>
    public required int ReplacedInvalidSequences { get; init; }
    /// <summary>Wall-clock seconds training took.</summary>
    public required double Seconds { get; init; }

    /// <summary>The report as JSON with snake_case keys.</summary>
    public JsonObject ToJson()
    {
        var dropped = new JsonArray();
        foreach (var (character, count) in DroppedExamples)
            dropped.Add((JsonNode)new JsonObject { ["character"] = character, ["count"] = count });
        return new JsonObject
        {
            ["mode"] = Mode == TokenizerMode.Bpe ? "bpe" : "char",
            ["requested_vocab_size"] = RequestedVocabSize,
            ["vocab_size"] = VocabSize,
            ["merges"] = Merges,
            ["alphabet_size"] = AlphabetSize,
            ["dropped_characters"] = DroppedCharacters,
            ["dropped_occurrences"] = DroppedOccurrences,
            ["dropped_examples"] = dropped,
            ["min_pair_frequency"] = MinPairFrequency,
            ["max_alphabet"] = MaxAlphabet,
            ["stop_reason"] = StopReason,
            ["text_bytes"] = TextBytes,
            ["words"] = Words,
            ["distinct_words"] = DistinctWords,
            ["bom_skipped"] = BomSkipped,
            ["replaced_invalid_sequences"] = ReplacedInvalidSequences,
            ["seconds"] = Math.Round(Seconds, 4),
        };
    }
}
