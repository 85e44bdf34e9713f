using System.Text.Json.Nodes;

namespace BulletNative.Model;

/// <summary>
/// The shape of a docs/format.md transformer (Forward math). Validation messages name the field and the rule,
/// because a person reads them in the dashboard.
/// </summary>
public sealed record ModelConfig(
    int VocabSize,
    int HiddenSize,
    int NumLayers,
    int NumHeads,
    int MaxContext,
    bool TiedHead = false,
    double Dropout = 0.0)
{
    /// <summary>RMSNorm epsilon fixed by the format.</summary>
    public const double NormEps = 1e-5;

    /// <summary>RoPE base fixed by the format.</summary>
    public const double RopeTheta = 10000.0;

    /// <summary>Width of one attention head.</summary>
    public int HeadSize => HiddenSize / NumHeads;

    /// <summary>Hidden width of the SwiGLU feed-forward (4d, fixed by the format).</summary>
    public int FfnSize => 4 * HiddenSize;

    /// <summary>Parameters the model trains (a tied head counts once).</summary>
    public long ParameterCount
    {
        get
        {
            long d = HiddenSize;
            var perLayer = 4 * d * d + 3 * d * FfnSize + 2 * d;
            return VocabSize * d * (TiedHead ? 1 : 2) + NumLayers * perLayer + d;
        }
    }

    /// <summary>Throws BulletArgumentException listing every reason the shape cannot be trained or stored.</summary>
    public void Validate()
    {
        var problems = new ConfigProblems();
        Check(problems);
        problems.ThrowIfAny();
    }

    /// <summary>Adds every reason the shape cannot be trained or stored to <paramref name="problems"/>, under TrainConfig's keys.</summary>
    public void Check(ConfigProblems problems)
    {
        problems.Require(VocabSize >= 2, "vocab_size", $"vocab_size {VocabSize} must be at least 2");
        problems.Require(VocabSize <= 65535, "vocab_size", $"vocab_size {VocabSize} must be at most 65535 (tensor shapes are 16-bit in .bullet)");
        problems.Require(HiddenSize > 0 && HiddenSize % 32 == 0, "hidden_size", $"hidden_size {HiddenSize} must be a positive multiple of 32");
        problems.Require(HiddenSize * 4L <= 65535, "hidden_size", $"hidden_size {HiddenSize} is too large: 4 x hidden_size must fit in 16 bits");
        problems.Require(NumLayers > 0, "num_layers", $"num_layers {NumLayers} must be at least 1");
        problems.Require(NumHeads > 0 && HiddenSize % NumHeads == 0 && HiddenSize / NumHeads % 2 == 0, "num_heads",
            $"num_heads {NumHeads} must divide hidden_size {HiddenSize} into an even head size");
        problems.Require(MaxContext >= 2, "max_seq_len", $"max_seq_len {MaxContext} must be at least 2");
        problems.Require(Dropout is >= 0 and < 1, "dropout", $"dropout {Dropout} must be in [0, 1)");
    }

    /// <summary>The config as JSON with the same keys TrainConfig uses.</summary>
    public JsonObject ToJson() => new()
    {
        ["vocab_size"] = VocabSize,
        ["hidden_size"] = HiddenSize,
        ["num_layers"] = NumLayers,
        ["num_heads"] = NumHeads,
        ["max_seq_len"] = MaxContext,
        ["tied_head"] = TiedHead,
        ["dropout"] = Dropout,
    };
}
