namespace BulletNative.Training;

/// <summary>A model shape and the recipe that goes with it.</summary>
public sealed record ShapeRow(
    double MinGflop, int HiddenSize, int NumLayers, int NumHeads, int MaxSeqLen, int BatchSize,
    string Tokenizer, int VocabSize, double LearningRate, double MuonLr);

/// <summary>
/// The shape the trainer chooses when the user gives none, by the work a run can do (its time budget × this
/// machine's measured GFLOP/s) and the size of the text. Derived by experiment: docs/training.md has the runs
/// behind each row and how they were measured.
/// </summary>
public static class ShapeTable
{
    /// <summary>Rows by the least work (GFLOP over the whole run) they need; the largest row the run can afford wins.</summary>
    public static IReadOnlyList<ShapeRow> Rows { get; } =
    [
        new(0, 64, 2, 2, 64, 16, "char", 0, 3e-3, 0.04),
        new(600, 128, 4, 4, 64, 16, "bpe", 512, 3e-3, 0.04),
        new(6000, 128, 4, 4, 128, 16, "bpe", 512, 3e-3, 0.04),
        new(20000, 192, 4, 6, 128, 16, "bpe", 512, 2e-3, 0.03),
        new(60000, 256, 6, 8, 256, 16, "bpe", 1024, 2e-3, 0.02),
    ];

    /// <summary>A text shorter than this gets character tokens whatever the row says (too little text per BPE token).</summary>
    public const long MinCharsForBpe = 100_000;

    /// <summary>Texts with fewer characters than half the parameters overfit a larger model: the row is capped.</summary>
    public const double MinCharsPerParameter = 0.5;

    /// <summary>
    /// A short text gets a context of one position per this many characters (at least <see cref="MinTextContext"/>,
    /// at most the row's): a long window on a few pages lets the model recite them, a short one makes it learn
    /// words and phrases and recombine them, and it judges better on the held-out part (docs/training.md).
    /// </summary>
    public const int CharsPerContextPosition = 800;

    /// <summary>The shortest context a short text gets: about two words.</summary>
    public const int MinTextContext = 10;

    /// <summary>The row for a run of <paramref name="gflop"/> total work on a text of <paramref name="textChars"/> characters.</summary>
    public static ShapeRow Choose(double gflop, long textChars)
    {
        var row = ByWork(gflop, textChars);
        var context = (int)Math.Clamp(textChars / CharsPerContextPosition, MinTextContext, row.MaxSeqLen);
        return textChars < MinCharsForBpe ? row with { Tokenizer = "char", VocabSize = 0, MaxSeqLen = context } : row;
    }

    /// <summary>The largest row the work affords whose model is not too large for the text.</summary>
    private static ShapeRow ByWork(double gflop, long textChars)
    {
        var row = Rows[0];
        foreach (var candidate in Rows.Skip(1))
        {
            var parameters = 12L * candidate.NumLayers * candidate.HiddenSize * candidate.HiddenSize;
            if (candidate.MinGflop > gflop || textChars < MinCharsPerParameter * parameters) break;
            row = candidate;
        }
        return row;
    }
}
