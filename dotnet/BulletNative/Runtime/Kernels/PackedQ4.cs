using System.Runtime.InteropServices;
using BulletNative.Format;

namespace BulletNative.Runtime.Kernels;

/// <summary>
/// BQ4 matrices rearranged once at load for the integer kernels: rows in groups of G (8 or 16), and per group and
/// block of 32 columns one 24·G-byte record a kernel reads front to back:
/// <code>
/// 4 quads × G rows × 4 bytes   byte k of row r in quad p: low nibble = value 4p+k, high nibble = value 16+4p+k
/// G floats                      each row's scale
/// G floats                      each row's scale × zero point
/// </code>
/// So one vector load gives four values of every row of the group, one per 32-bit lane, and the activations' four
/// matching int8 values are broadcast to all lanes: the lanes' dot products are the G rows' partial sums, with no
/// horizontal additions. Several BQ4 matrices with the same columns can be stacked into one (Q, K and V; gate and up).
/// </summary>
public sealed unsafe class PackedQ4
{
    private readonly byte[] _storage;
    private readonly int _offset;

    /// <summary>Rows in all (the stacked matrices' rows, in order).</summary>
    public int Rows { get; }
    /// <summary>Values per row (the matrices' shared input width), a multiple of 32.</summary>
    public int Cols { get; }
    /// <summary>Rows per group, G (8 or 16); the last group is padded to G rows.</summary>
    public int GroupRows { get; }
    /// <summary>Blocks of 32 columns per row.</summary>
    public int Blocks => Cols / Bq4.BlockValues;
    /// <summary>Groups of G rows, the last one possibly partial.</summary>
    public int Groups => (Rows + GroupRows - 1) / GroupRows;
    /// <summary>Bytes of one group's record for one block.</summary>
    public int BlockStride => 24 * GroupRows;
    /// <summary>Bytes a full product reads.</summary>
    public long ByteSize => (long)Groups * Blocks * BlockStride;

    /// <summary>The packed data (pinned for the process's lifetime, 64-byte aligned).</summary>
    public byte* Data => (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(_storage, _offset);

    /// <summary>Packs <paramref name="matrices"/> (same column count) stacked by rows into groups of <paramref name="groupRows"/>.</summary>
    public PackedQ4(int groupRows, params Bq4Matrix[] matrices)
    {
        if (groupRows is not (8 or 16)) throw new BulletArgumentException($"group rows must be 8 or 16, got {groupRows}");
        if (matrices.Length == 0) throw new BulletArgumentException("nothing to pack");
        Cols = matrices[0].Cols;
        if (matrices.Any(m => m.Cols != Cols)) throw new BulletArgumentException("stacked matrices need the same column count");
        Rows = matrices.Sum(m => m.Rows);
        GroupRows = groupRows;
        var bytes = ByteSize;
        if (bytes > int.MaxValue - 64) throw new BulletArgumentException($"a packed matrix of {bytes} bytes is too large");
        _storage = GC.AllocateArray<byte>((int)bytes + 64, pinned: true);
        var address = (long)Marshal.UnsafeAddrOfPinnedArrayElement(_storage, 0);
        _offset = (int)((64 - address % 64) % 64);
        var row = 0;
        foreach (var matrix in matrices)
            for (var r = 0; r < matrix.Rows; r++, row++)
                PackRow(matrix.Row(r), row);
    }

    private void PackRow(ReadOnlySpan<byte> source, int row)
    {
        int g = row / GroupRows, r = row % GroupRows;
        var storage = new Span<byte>(Data, (int)ByteSize);
        for (var b = 0; b < Blocks; b++)
        {
            var block = source.Slice(b * Bq4.BlockBytes, Bq4.BlockBytes);
            var record = storage.Slice((g * Blocks + b) * BlockStride, BlockStride);
            for (var p = 0; p < 4; p++)
                for (var k = 0; k < 4; k++)
                    record[(p * GroupRows + r) * 4 + k] = (byte)(Nibble(block, 4 * p + k) | Nibble(block, 16 + 4 * p + k) << 4);
            var scale = (float)BitConverter.UInt16BitsToHalf((ushort)(block[0] | block[1] << 8));
            var floats = MemoryMarshal.Cast<byte, float>(record[(16 * GroupRows)..]);
            floats[r] = scale;
            floats[GroupRows + r] = scale * (sbyte)block[2];
        }
    }

    /// <summary>Value <paramref name="i"/>'s nibble in a BQ4 block: byte 4 + i/2, low nibble for even i.</summary>
    private static int Nibble(ReadOnlySpan<byte> block, int i) => (i & 1) == 0 ? block[4 + i / 2] & 0xF : block[4 + i / 2] >> 4;
}
