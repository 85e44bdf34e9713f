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
        new(0, 64, 2, 2, 64, 16, "char", 0, 3e-3, 0.03),
        new(600, 96, 3, 3, 64, 16, "char", 0, 3e-3, 0.03),
        new(2500, 128, 4, 4, 128, 16, "char", 0, 3e-3, 0.025),
        new(8000, 192, 4, 6, 128, 24, "char", 0, 2e-3, 0.02),
        new(30000, 256, 6, 8, 256, 16, "char", 0, 2e-3, 0.02),
    ];

    /// <summary>Texts shorter than this many characters per parameter overfit a larger model: the row is capped.</summary>
    public const double MinCharsPerParameter = 0.5;

    /// <summary>The row for a run of <paramref name="gflop"/> total work on a text of <paramref name="textChars"/> characters.</summary>
    public static ShapeRow Choose(double gflop, long textChars)
    {
        var row = Rows[0];
        foreach (var candidate in Rows)
        {
            if (candidate.MinGflop > gflop) break;
            var parameters = 12L * candidate.NumLayers * candidate.HiddenSize * candidate.HiddenSize;
            if (candidate != Rows[0] && textChars < MinCharsPerParameter * parameters) break;
            row = candidate;
        }
        return row;
    }
}
