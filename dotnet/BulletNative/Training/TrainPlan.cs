using System.Globalization;
using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Tokenizer;

namespace BulletNative.Training;

/// <summary>What a run trains: the resolved config, the tokenized text, and notes saying what was chosen or corrected.</summary>
public sealed record PreparedRun(TrainConfig Config, TokenData Data, IReadOnlyList<string> Notes);

/// <summary>
/// Resolves a training request into the config a run uses, in two stages. From the request alone: what the user
/// sets wins over the preset's defaults (a limit given — total_steps, epochs or time_budget_s — replaces the
/// preset's limits, and several given end training at whichever comes first; a vocab_size given over a
/// character preset asks for BPE). With the text: fields neither the user nor a preset set are chosen for the text
/// and this machine (shape from <see cref="ShapeTable"/>, a time budget, evaluation cadence), and whatever cannot work
/// on this text (a vocabulary larger than it makes, a context longer than its parts) is corrected. Every choice and
/// correction is a note, shown in config validation and the session's "started" event.
/// </summary>
public sealed class TrainPlan
{
    private static readonly string[] s_limitKeys = ["total_steps", "epochs", "time_budget_s"];

    /// <summary>Shortest text a run accepts, in characters.</summary>
    public const int MinTextChars = 40;

    /// <summary>Smallest context a correction goes down to.</summary>
    public const int MinContext = 8;

    /// <summary>
    /// A text shorter than this trains whole when the plan chooses val_fraction: its validation part would be a few
    /// dozen words, whose loss rises as soon as the model learns any word they lack, so the checkpoint it calls best is
    /// one that has learned next to nothing.
    /// </summary>
    public const long MinCharsForValidation = 2_000;

    private readonly List<string> _notes;
    private readonly HashSet<string> _userKeys;
    private readonly bool _chooseBudget;

    /// <summary>The config resolved from the request alone (before the text is known).</summary>
    public TrainConfig Config { get; }

    /// <summary>The preset the request named, if any.</summary>
    public string? Preset { get; }

    /// <summary>What was chosen or corrected so far, for a person to read.</summary>
    public IReadOnlyList<string> Notes => _notes;

    private TrainPlan(TrainConfig config, string? preset, HashSet<string> userKeys, List<string> notes, bool chooseBudget)
    {
        (Config, Preset, _userKeys, _notes, _chooseBudget) = (config, preset, userKeys, notes, chooseBudget);
    }

    /// <summary>A request (config keys over an optional "preset") resolved as far as it can be without the text.</summary>
    public static TrainPlan FromJson(JsonObject request)
    {
        var config = TrainConfig.FromJson(request);
        var preset = request["preset"] is JsonNode p ? JsonFields.Options.String(p, "preset") : null;
        var userKeys = request.Select(kv => kv.Key).Where(k => k != "preset").ToHashSet();
        var notes = new List<string>();
        var source = preset is null ? "the default" : $"the {preset} preset's";

        var givenLimits = s_limitKeys.Where(userKeys.Contains).ToList();
        var setLimits = givenLimits.Where(k => Limit(config, k) > 0).ToList();
        if (setLimits.Count > 0)
        {
            foreach (var key in s_limitKeys.Except(givenLimits).Where(k => Limit(config, k) > 0))
            {
                if (preset != null) notes.Add($"{Describe(config, setLimits[0])} given: the {preset} preset's {key} {Number(Limit(config, key))} is not used");
                SetLimit(config, key, 0);
            }
            if (setLimits.Count > 1)
                notes.Add($"training ends at whichever comes first: {string.Join(" or ", setLimits.Select(k => Describe(config, k)))}");
        }
        var chooseBudget = givenLimits.Count == 0 && preset is null;
        if (chooseBudget) (config.TotalSteps, config.Epochs, config.TimeBudgetSeconds) = (0, 0, DefaultBudgetSeconds(int.MaxValue));

        if (userKeys.Contains("vocab_size") && !userKeys.Contains("tokenizer") && config.Tokenizer == "char" && config.VocabSize > 0)
        {
            notes.Add($"vocab_size {config.VocabSize} given: a BPE tokenizer of that size instead of {source} character tokenizer");
            config.Tokenizer = "bpe";
        }
        if (userKeys.Contains("tokenizer") && !userKeys.Contains("vocab_size") && config.Tokenizer == "char" && config.VocabSize > 0)
        {
            notes.Add($"tokenizer char given: every character of the text is a token ({source} vocab_size {config.VocabSize} is not used)");
            config.VocabSize = 0;
        }
        if (preset is null)
        {
            // The recipe measured best per CPU-second (docs/training.md), unless the user chose otherwise.
            if (!userKeys.Contains("optimizer")) config.Optimizer = "muon";
            if (!userKeys.Contains("lr_schedule")) config.Schedule = "wsd";
            if (!userKeys.Contains("threads")) config.Threads = Math.Clamp(Environment.ProcessorCount, 1, 4);
        }
        return new TrainPlan(config, preset, userKeys, notes, chooseBudget);
    }

    /// <summary>A config taken as it is (a resumed checkpoint's): nothing is chosen, only impossibilities corrected.</summary>
    public static TrainPlan Fixed(TrainConfig config) =>
        new(config.Clone(), "checkpoint", config.ToJson().Select(kv => kv.Key).ToHashSet(), [], chooseBudget: false);

    /// <summary>True when neither the user nor a preset set <paramref name="key"/>, so the plan chooses it.</summary>
    public bool Chooses(string key) => Preset is null && !_userKeys.Contains(key);

    /// <summary>
    /// The run for <paramref name="text"/>: chooses what is left to choose, trains the tokenizer (or uses
    /// <paramref name="tokenizer"/>), corrects what cannot work on this text, and splits it (the last val_fraction
    /// of its characters is validation).
    /// </summary>
    public PreparedRun ForText(string text, BulletTokenizer? tokenizer = null)
    {
        if (string.IsNullOrEmpty(text)) throw new BulletArgumentException("the training text is empty");
        var chars = text.EnumerateRunes().LongCount();
        if (chars < MinTextChars)
            throw new BulletArgumentException($"the text is too short to train on: {chars} characters (at least {MinTextChars})");
        var config = Config.Clone();
        var notes = new List<string>(_notes);

        if (_chooseBudget)
        {
            config.TimeBudgetSeconds = DefaultBudgetSeconds(chars);
            notes.Add($"no steps, epochs or time budget given: trains for {Number(config.TimeBudgetSeconds)} s");
        }
        ChooseShape(config, chars, notes);
        if (Chooses("val_fraction") && chars < MinCharsForValidation && config.ValFraction > 0)
        {
            config.ValFraction = 0;
            notes.Add($"the text is short ({chars:N0} characters, fewer than {MinCharsForValidation:N0}): it all trains, with no " +
                      "validation part (too few held-out words to choose a checkpoint by)");
        }
        tokenizer = Tokenize(config, text, chars, tokenizer, notes);
        var data = FitWindows(config, text, tokenizer, notes);
        ChooseCadence(config, data, notes);
        config.Validate();
        return new PreparedRun(config, data, notes);
    }

    /// <summary>The time budget when none is given: a minute, less for a short text (which a small model learns in seconds).</summary>
    public static double DefaultBudgetSeconds(long textChars) => Math.Round(Math.Clamp(15 + textChars / 2000.0, 15, 60));

    private void ChooseShape(TrainConfig config, long chars, List<string> notes)
    {
        string[] shapeKeys = ["tokenizer", "vocab_size", "hidden_size", "num_layers", "num_heads", "max_seq_len", "batch_size"];
        if (!shapeKeys.Any(Chooses)) return;
        var speed = config.TimeBudgetSeconds > 0 ? TrainSpeed.Calibrate(config.Threads) : TrainSpeed.Cached(config.Threads) ?? TrainSpeed.Calibration.Default(config.Threads);
        var seconds = config.TimeBudgetSeconds > 0 ? config.TimeBudgetSeconds : DefaultBudgetSeconds(chars);
        var row = ShapeTable.Choose(seconds * speed.Gflops, chars);
        if (Chooses("tokenizer")) config.Tokenizer = row.Tokenizer;
        if (Chooses("vocab_size")) config.VocabSize = row.VocabSize;
        if (Chooses("hidden_size")) config.HiddenSize = row.HiddenSize;
        if (Chooses("num_layers")) config.NumLayers = row.NumLayers;
        if (Chooses("num_heads")) config.NumHeads = config.HiddenSize == row.HiddenSize ? row.NumHeads : Math.Max(1, config.HiddenSize / 32);
        if (Chooses("max_seq_len")) config.MaxSeqLen = row.MaxSeqLen;
        if (Chooses("batch_size")) config.BatchSize = row.BatchSize;
        if (Chooses("learning_rate")) config.LearningRate = row.LearningRate;
        if (Chooses("muon_lr")) config.MuonLr = row.MuonLr;
        notes.Add($"shape chosen for {chars:N0} characters and {Number(seconds)} s at {speed.Gflops:F0} GFLOP/s" +
                  $"{(speed.Measured ? "" : " (not yet calibrated)")}: hidden {config.HiddenSize} × {Count(config.NumLayers, "layer")}, " +
                  $"{Count(config.NumHeads, "head")}, context {config.MaxSeqLen}, batch {config.BatchSize}, " +
                  (config.Tokenizer == "char" ? "character tokens" : $"BPE {config.VocabSize}"));
    }

    private BulletTokenizer Tokenize(TrainConfig config, string text, long chars, BulletTokenizer? given, List<string> notes)
    {
        if (given != null)
        {
            if (_userKeys.Contains("vocab_size") && config.VocabSize > 0 && config.VocabSize != given.VocabSize && Preset != "checkpoint")
                notes.Add($"the given tokenizer has {given.VocabSize} tokens; vocab_size {config.VocabSize} is not used");
            config.Tokenizer = given.Mode == TokenizerMode.Bpe ? "bpe" : "char";
            config.VocabSize = given.VocabSize;
            return given;
        }
        if (config.Tokenizer == "bpe" && !_userKeys.Contains("tokenizer") && !_userKeys.Contains("vocab_size") && chars < 10L * config.VocabSize)
        {
            notes.Add($"the text is short ({chars:N0} characters): character tokens instead of a BPE vocabulary of {config.VocabSize}");
            (config.Tokenizer, config.VocabSize) = ("char", 0);
        }
        var tokenizer = TokenizerCodec.TrainTokenizer(config, text);
        if (config.Tokenizer == "bpe" && tokenizer.VocabSize < config.VocabSize)
            notes.Add($"vocab_size {config.VocabSize} is more than this text makes: {tokenizer.VocabSize} tokens");
        if (config.Tokenizer == "char" && config.VocabSize > 0 && tokenizer.VocabSize > config.VocabSize)
            notes.Add($"the text has {tokenizer.VocabSize - 1} distinct characters, more than vocab_size {config.VocabSize}: every character is a token");
        config.VocabSize = tokenizer.VocabSize;
        return tokenizer;
    }

    /// <summary>
    /// Cuts and tokenizes the text, shrinking the context (or dropping validation) where a part of the text is
    /// shorter than one window, and refusing a text too short for any window.
    /// </summary>
    private static TokenData FitWindows(TrainConfig config, string text, BulletTokenizer tokenizer, List<string> notes)
    {
        var cut = TokenizerCodec.ValidationStart(text, config.ValFraction);
        var train = tokenizer.Encode(text[..cut]);
        var val = cut < text.Length ? tokenizer.Encode(text[cut..]) : [];
        if (val.Length > 0 && val.Length <= config.MaxSeqLen)
        {
            if (val.Length - 1 >= MinContext)
            {
                notes.Add($"max_seq_len {config.MaxSeqLen} is longer than the validation part ({val.Length} tokens): context {ShorterContext(val.Length)}");
                config.MaxSeqLen = ShorterContext(val.Length);
            }
            else
            {
                notes.Add($"the text is too short for a validation part: val_fraction {Number(config.ValFraction)} → 0 (no validation loss)");
                config.ValFraction = 0;
                (train, val) = (tokenizer.Encode(text), []);
            }
        }
        if (train.Length <= config.MaxSeqLen)
        {
            if (train.Length - 1 < MinContext)
                throw new BulletArgumentException($"the text is too short to train on: it makes {train.Length} tokens (at least {MinContext + 1})");
            notes.Add($"max_seq_len {config.MaxSeqLen} is longer than the training part ({train.Length} tokens): context {ShorterContext(train.Length)}");
            config.MaxSeqLen = ShorterContext(train.Length);
        }
        return new TokenData(train, val, new TokenizerCodec(tokenizer), config.MaxSeqLen, config.ValFraction);
    }

    /// <summary>The longest context (a multiple of 8 where possible) whose window fits in <paramref name="tokens"/> tokens.</summary>
    private static int ShorterContext(int tokens) => tokens - 1 >= 16 ? (tokens - 1) / 8 * 8 : tokens - 1;

    /// <summary>Warmup, evaluation, samples and attention snapshots spread over the steps the run is expected to take.</summary>
    private void ChooseCadence(TrainConfig config, TokenData data, List<string> notes)
    {
        var limits = new RunLimits(config, data.Train.Length, (long)config.BatchSize * config.MaxSeqLen * config.GradAccum);
        var secondsPerStep = TrainSpeed.SecondsPer1000Steps(config, data.Codec.VocabSize) / 1000;
        var steps = Math.Max(1, limits.EstimatedTotalSteps(0, 0, secondsPerStep));
        if (Chooses("warmup_steps")) config.WarmupSteps = (int)Math.Clamp(steps / 20, 5, 200);
        var every = (int)Math.Max(10, steps / 10);
        if (Chooses("eval_every")) config.EvalEvery = every;
        if (Chooses("sample_every")) config.SampleEvery = 2 * every;
        if (Chooses("attention_every")) config.AttentionEvery = 2 * every;
        if (limits.BudgetSeconds is { } budget && limits.StepLimit is null)
            notes.Add($"about {steps:N0} steps fit in {Number(budget)} s on this machine ({secondsPerStep * 1000:F0} ms per step, estimated)");
    }

    private static double Limit(TrainConfig config, string key) => key switch
    {
        "total_steps" => config.TotalSteps,
        "epochs" => config.Epochs,
        _ => config.TimeBudgetSeconds,
    };

    private static void SetLimit(TrainConfig config, string key, double value)
    {
        if (key == "total_steps") config.TotalSteps = (int)value;
        else if (key == "epochs") config.Epochs = value;
        else config.TimeBudgetSeconds = value;
    }

    private static string Describe(TrainConfig config, string key) => $"{key} {Number(Limit(config, key))}";

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
