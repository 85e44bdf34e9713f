using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace BulletNative.Format;

/// <summary>
/// Reads NumPy .npy files (format versions 1–3) holding float32, float16 or float64 arrays in C order,
/// converting to float32. Anything else (integers, Fortran order, object arrays) is a clear error.
/// </summary>
public static partial class NpyReader
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads an .npy file into its shape and float32 values.</summary>
    public static (int[] Shape, float[] Values) ReadFile(string path)
    {
        try
        {
            return Read(File.ReadAllBytes(path));
        }
        catch (BulletFormatException e)
        {
            throw new BulletFormatException($"{Path.GetFileName(path)}: {e.Message}");
        }
    }

    /// <summary>Parses an .npy image into its shape and float32 values.</summary>
    public static (int[] Shape, float[] Values) Read(ReadOnlySpan<byte> data)
    {
        if (data.Length < 10 || !data[..6].SequenceEqual(Magic))
            throw new BulletFormatException("not an .npy file (the magic \\x93NUMPY is missing)");
        var major = data[6];
        int headerLength, headerStart;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(data[8..]);
                headerStart = 10;
                break;
            case 2 or 3 when data.Length >= 12:
                var length = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
                if (length > int.MaxValue) throw new BulletFormatException($".npy header length {length} is too large");
                headerLength = (int)length;
                headerStart = 12;
                break;
            default:
                throw new BulletFormatException($".npy format version {major} is not supported (1, 2 or 3)");
        }
        if (headerStart + (long)headerLength > data.Length)
            throw new BulletFormatException($".npy header of {headerLength} bytes runs past the end of the file");
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(data.Slice(headerStart, headerLength));
        var (descr, fortran, shape) = ParseHeader(header);
        if (fortran) throw new BulletFormatException(".npy array is in Fortran order; save it in C order (np.ascontiguousarray)");

        var (elementSize, bigEndian, kind) = ParseDescr(descr);
        var count = shape.Aggregate(1L, (a, b) => a * b);
        var body = data[(headerStart + headerLength)..];
        if (count * elementSize != body.Length)
            throw new BulletFormatException($".npy array of shape ({string.Join(", ", shape)}) and dtype {descr} needs {count * elementSize} bytes of data, the file has {body.Length}");
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
        {
            var raw = body.Slice(i * elementSize, elementSize);
            values[i] = kind switch
            {
                'h' => (float)(bigEndian ? BinaryPrimitives.ReadHalfBigEndian(raw) : BinaryPrimitives.ReadHalfLittleEndian(raw)),
                'f' => bigEndian ? BinaryPrimitives.ReadSingleBigEndian(raw) : BinaryPrimitives.ReadSingleLittleEndian(raw),
                _ => (float)(bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(raw) : BinaryPrimitives.ReadDoubleLittleEndian(raw)),
            };
        }
        return (shape, values);
    }

    private static (int Size, bool BigEndian, char Kind) ParseDescr(string descr) => descr switch
    {
        "<f2" or "=f2" or "|f2" => (2, false, 'h'),
        ">f2" => (2, true, 'h'),
        "<f4" or "=f4" or "|f4" => (4, false, 'f'),
        ">f4" => (4, true, 'f'),
        "<f8" or "=f8" or "|f8" => (8, false, 'd'),
        ">f8" => (8, true, 'd'),
        _ => throw new BulletFormatException($".npy dtype '{descr}' is not supported; use float32, float16 or float64"),
    };

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    private static (string Descr, bool Fortran, int[] Shape) ParseHeader(string header)
    {
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shape.Success)
            throw new BulletFormatException($".npy header is malformed: {header.Trim()}");
        var dims = new List<int>();
        foreach (var part in shape.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part.TrimEnd('L'), out var n) || n < 0)
                throw new BulletFormatException($".npy shape ({shape.Groups[1].Value}) is not a tuple of non-negative integers");
            dims.Add(n);
        }
        return (descr.Groups[1].Value, fortran.Groups[1].Value == "True", dims.ToArray());
    }
}
