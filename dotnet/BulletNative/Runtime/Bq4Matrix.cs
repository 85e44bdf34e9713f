using BulletNative.Format;

namespace BulletNative.Runtime;

/// <summary>
/// A row-major [rows, cols] BQ4 matrix viewed in place in the file's bytes (cols a multiple of 32, so every row
/// starts on a block boundary and is cols/32 whole blocks).
/// </summary>
public sealed class Bq4Matrix
{
    /// <summary>The BQ4 bytes of the used rows.</summary>
    public ReadOnlyMemory<byte> Data { get; }
    /// <summary>Rows viewed (the used rows, which may be fewer than the tensor stores).</summary>
    public int Rows { get; }
    /// <summary>Values per row, a positive multiple of 32.</summary>
    public int Cols { get; }
    /// <summary>Blocks of 32 values per row.</summary>
    public int BlocksPerRow => Cols / Bq4.BlockValues;
    /// <summary>Bytes per row.</summary>
    public int RowBytes => BlocksPerRow * Bq4.BlockBytes;

    /// <summary>Views the first <paramref name="rows"/> rows of BQ4 data with <paramref name="cols"/> values each.</summary>
    public Bq4Matrix(ReadOnlyMemory<byte> data, int rows, int cols)
    {
        if (cols <= 0 || cols % Bq4.BlockValues != 0)
            throw new BulletArgumentException($"a BQ4 matrix needs a positive multiple of 32 columns, got {cols}");
        if (rows <= 0) throw new BulletArgumentException($"a BQ4 matrix needs at least one row, got {rows}");
        var needed = (long)rows * (cols / Bq4.BlockValues) * Bq4.BlockBytes;
        if (data.Length < needed)
            throw new BulletFormatException($"a [{rows}, {cols}] BQ4 matrix needs {needed} bytes, got {data.Length}");
        Data = data[..(int)needed];
        Rows = rows;
        Cols = cols;
    }

    /// <summary>The BQ4 bytes of one row.</summary>
    public ReadOnlySpan<byte> Row(int row) => Data.Span.Slice(row * RowBytes, RowBytes);

    /// <summary>Decodes one row into <paramref name="output"/> (Cols values).</summary>
    public void DecodeRow(int row, Span<float> output) => Bq4.Dequantize(Row(row), output[..Cols]);

    /// <summary>Bytes of weights one full matrix × vector product reads.</summary>
    public long ByteSize => Data.Length;
}
