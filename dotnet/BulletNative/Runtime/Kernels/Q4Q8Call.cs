using System.Runtime.InteropServices;

namespace BulletNative.Runtime.Kernels;

/// <summary>
/// One product Y (+)= W·Aᵀ of packed 4-bit weights W (<see cref="PackedQ4"/>) with M rows of int8 activations A
/// (<see cref="Q8Rows"/>), restricted to the row groups [GroupFrom, GroupTo). Plain pointers and integers, so the same
/// struct crosses into the separately compiled AVX-512 kernel library.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct Q4Q8Call
{
    /// <summary>The packed groups (64-byte aligned).</summary>
    public byte* Weights;
    /// <summary>Rows per group of the packing (8, or 16 for the 512-bit kernel).</summary>
    public int GroupRows;
    /// <summary>Blocks of 32 values per row.</summary>
    public int Blocks;
    /// <summary>The half-open range [GroupFrom, GroupTo) of row groups this call computes (threads split a product by groups).</summary>
    public int GroupFrom, GroupTo;
    /// <summary>Rows of W that exist; outputs of the padding rows of the last group are not written.</summary>
    public int Rows;
    /// <summary>Activations: row m's int8 values start at Q + m·Blocks·32, its per-block floats at Scales/ScaledSums + m·Blocks.</summary>
    public sbyte* Q;
    /// <summary>Per row and block of the activations: the int8 scale d, and d·Σq (see <see cref="Q8Rows"/>).</summary>
    public float* Scales, ScaledSums;
    /// <summary>Activation rows, each giving one output row of Y.</summary>
    public int M;
    /// <summary>Output: row m, weight row r at Y[m·YStride + r].</summary>
    public float* Y;
    /// <summary>Floats between consecutive output rows of Y.</summary>
    public int YStride;
    /// <summary>Non-zero: add to Y instead of overwriting it (a residual connection in the same pass).</summary>
    public int Accumulate;
}
