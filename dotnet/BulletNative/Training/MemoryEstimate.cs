using System.Text.Json.Nodes;

namespace BulletNative.Training;

/// <summary>
/// The peak resident memory of a training session's worker process, estimated from its config before it starts: the
/// process itself (interpreter, .NET runtime, libtorch), the parameters with their gradients and AdamW moments (and
/// EMA), what a step keeps for backward, the verification an export runs, and the text with its tokens. Memory freed
/// after a step stays with the process (libtorch's and the C allocator's pools), so the parts add up. The constants
/// were fitted to peaks measured in worker processes on this project's test machine (docs/workers.md, "Memory"),
/// aiming at ±30 %.
/// </summary>
public static class MemoryEstimate
{
    private const double MB = 1024 * 1024;

    /// <summary>Resident memory of a worker before its model exists (measured: 170-180 MB).</summary>
    public const long ProcessBytes = 175L * 1024 * 1024;

    /// <summary>Floats a step keeps per token and layer: a part that grows with the width and one that does not (fitted).</summary>
    private const double FloatsPerTokenLayer = 3000, FloatsPerTokenLayerPerWidth = 75;

    /// <summary>Floats per token and vocabulary entry at the loss: the logits and their gradient.</summary>
    private const double LogitCopies = 2;

    /// <summary>Windows the export's verification runs at once (ModelExporter's batch).</summary>
    private const int VerifyBatch = 32;

    /// <summary>Bytes per byte of text while it is held: the UTF-16 string, its tokens as ints and the tokenizer's work (measured).</summary>
    private const double BytesPerTextByte = 14;

    /// <summary>The vocabulary a character tokenizer is assumed to have when the text is not known.</summary>
    public const int AssumedCharacterVocabulary = 256;

    /// <summary>The estimate for <paramref name="config"/> on a text of <paramref name="textBytes"/> UTF-8 bytes (0: unknown).</summary>
    public static JsonObject Of(TrainConfig config, long textBytes = 0)
    {
        var vocab = config.VocabSize > 0 ? config.VocabSize : AssumedCharacterVocabulary;
        var model = config.ToModelConfig(Math.Clamp(vocab, 2, 65535));
        double parameters = model.ParameterCount;
        double d = config.HiddenSize, t = config.MaxSeqLen, layers = config.NumLayers;
        var tokensPerMicroBatch = (double)config.BatchSize * t;

        // Weights and gradients in flat buffers, AdamW's two moments, the EMA's shadow copy.
        var state = parameters * 4 * (4 + (config.EmaDecay > 0 ? 1 : 0));
        var activations = tokensPerMicroBatch * 4 * (layers * (FloatsPerTokenLayer + FloatsPerTokenLayerPerWidth * d) + 6 * d + LogitCopies * vocab);
        // The export copies the weights out and verifies them with a second, dequantized model, a batch of windows at a time.
        var export = parameters * 4 * 4 + VerifyBatch * t * vocab * 4;
        var data = textBytes * BytesPerTextByte;
        var total = ProcessBytes + state + activations + export + data;
        return new JsonObject
        {
            ["peak_bytes"] = (long)total,
            ["parameters"] = (long)parameters,
            ["parts"] = new JsonObject
            {
                ["process"] = ProcessBytes,
                ["weights_gradients_optimizer"] = (long)state,
                ["activations"] = (long)activations,
                ["export"] = (long)export,
                ["text_and_tokens"] = (long)data,
            },
            ["vocab_size_assumed"] = config.VocabSize > 0 ? null : AssumedCharacterVocabulary,
            ["summary"] = $"about {Describe(total)} ({model.ParameterCount:N0} parameters)",
        };
    }

    /// <summary>A size for people: "310 MB", "1.2 GB".</summary>
    public static string Describe(double bytes) =>
        bytes >= 1024 * MB ? $"{bytes / 1024 / MB:0.#} GB" : $"{Math.Max(1, Math.Round(bytes / MB)):0} MB";
}
