using BulletNative.Builder;
using BulletNative.Format;
using BulletNative.Runtime;
using BulletNative.Runtime.Kernels;

namespace BulletNative.Tests;

/// <summary>
/// The integer kernels against their scalar definition: every variant (run with its own instructions where the
/// processor has them, emulated otherwise) must give the definition's bits; the definition must stay within the
/// int8 rounding bound of the float product of the format.
/// </summary>
public class Q4Q8Tests
{
    private static Bq4Matrix RandomMatrix(Random random, int rows, int cols)
    {
        var weights = Enumerable.Range(0, rows * cols).Select(_ => (float)RandomWeights.Gaussian(random)).ToArray();
        // A block that does not straddle zero (zero point outside 0..15) and a constant block, as RMSNorm-like rows give.
        for (var c = 0; c < Math.Min(32, cols); c++) weights[c] = 1f + 0.01f * c;
        if (rows > 1) Array.Fill(weights, 0.5f, cols, Math.Min(32, cols));
        var data = new byte[Bq4.ByteCount(weights.Length)];
        Bq4.Quantize(weights, data);
        return new Bq4Matrix(data, rows, cols);
    }

    private static float[] RandomVector(Random random, int n, float scale = 1) =>
        Enumerable.Range(0, n).Select(i => i % 97 == 5 ? 0f : scale * (float)RandomWeights.Gaussian(random)).ToArray();

    [Test]
    public void VectorQuantizationEqualsTheDefinition()
    {
        var random = new Random(1);
        const int cols = 256;
        var fast = new Q8Rows(cols, 3);
        var reference = new Q8Rows(cols, 3);
        var x = RandomVector(random, cols, 3);
        Array.Clear(x, 64, 32); // an all-zero block: scale 0, values 0
        var norm = RandomVector(random, cols);
        fast.Quantize(0, x);
        reference.QuantizeReference(0, x);
        fast.Quantize(2, x, norm, 0.37f);
        reference.QuantizeReference(2, x, norm, 0.37f);
        foreach (var row in new[] { 0, 2 })
        {
            Assert.That(fast.Values(row).ToArray(), Is.EqualTo(reference.Values(row).ToArray()), $"row {row}");
            Assert.That(fast.BlockScales(row).ToArray(), Is.EqualTo(reference.BlockScales(row).ToArray()), $"row {row}");
            Assert.That(fast.BlockScaledSums(row).ToArray(), Is.EqualTo(reference.BlockScaledSums(row).ToArray()), $"row {row}");
        }
        Assert.That(reference.BlockScales(0)[2], Is.EqualTo(0f));
        Assert.That(reference.Values(0).ToArray().Skip(64).Take(32), Is.All.EqualTo((sbyte)0));
        Assert.That(reference.Values(0).ToArray().Max(v => Math.Abs((int)v)), Is.EqualTo(127));
        // Each value is within half a step of the input: |q·d − x| ≤ d/2.
        for (var c = 0; c < cols; c++)
            Assert.That(Math.Abs(reference.Values(0)[c] * reference.BlockScales(0)[c / 32] - x[c]),
                Is.LessThanOrEqualTo(reference.BlockScales(0)[c / 32] / 2 * 1.0001f));
    }

    public static IEnumerable<Q4Q8Kernel> Kernels => Enum.GetValues<Q4Q8Kernel>();

    [Test]
    public unsafe void EveryKernelGivesTheDefinitionsBits([ValueSource(nameof(Kernels))] Q4Q8Kernel kernel,
        [Values(1, 3, 4, 6)] int m, [Values(false, true)] bool accumulate)
    {
        TestContext.Out.WriteLine($"{kernel}: {(Q4Q8.RunsNatively(kernel) ? "this processor's instructions" : "emulated")}");
        var random = new Random(m * 7 + (accumulate ? 1 : 0));
        foreach (var (rows, cols) in new[] { (37, 96), (64, 256), (5, 1024) })
        {
            var packed = new PackedQ4(Q4Q8.GroupRows(kernel), RandomMatrix(random, rows, cols));
            var input = new Q8Rows(cols, m);
            for (var i = 0; i < m; i++) input.Quantize(i, RandomVector(random, cols, i + 1));
            var stride = rows + 3;
            var start = RandomVector(random, m * stride);
            var expected = (float[])start.Clone();
            var actual = (float[])start.Clone();
            fixed (float* e = expected)
            fixed (float* a = actual)
            {
                var call = new Q4Q8Call
                {
                    Weights = packed.Data, GroupRows = packed.GroupRows, Blocks = packed.Blocks, GroupFrom = 0, GroupTo = packed.Groups,
                    Rows = rows, Q = input.Q, Scales = input.Scales, ScaledSums = input.ScaledSums, M = m, Y = e, YStride = stride,
                    Accumulate = accumulate ? 1 : 0,
                };
                Q4Q8.RunReference(&call);
                Q4Q8.Multiply(packed, input, m, a, stride, accumulate, threads: 1, kernel);
            }
            Assert.That(actual, Is.EqualTo(expected), $"[{rows}, {cols}]");
            // The padding columns of each output row are left alone.
            for (var i = 0; i < m; i++)
                Assert.That(actual.Skip(i * stride + rows).Take(3), Is.EqualTo(start.Skip(i * stride + rows).Take(3)));
        }
    }

    [Test]
    public unsafe void ThreadsSplitTheRowsWithoutChangingABit()
    {
        var random = new Random(9);
        var kernel = Q4Q8.Best;
        var packed = new PackedQ4(Q4Q8.GroupRows(kernel), RandomMatrix(random, 1000, 512));
        var input = new Q8Rows(512, 8);
        for (var i = 0; i < 8; i++) input.Quantize(i, RandomVector(random, 512));
        float[] one = new float[8 * 1000], two = new float[8 * 1000];
        fixed (float* a = one) Q4Q8.Multiply(packed, input, 8, a, 1000, false, 1, kernel);
        fixed (float* b = two) Q4Q8.Multiply(packed, input, 8, b, 1000, false, 2, kernel);
        Assert.That(two, Is.EqualTo(one));
    }

    [Test]
    public unsafe void TheDefinitionStaysWithinTheInt8RoundingOfTheFloatProduct()
    {
        var random = new Random(4);
        const int rows = 24, cols = 512;
        var matrix = RandomMatrix(random, rows, cols);
        var x = RandomVector(random, cols, 2);
        var decoded = new float[rows * cols];
        Bq4.DequantizeReference(matrix.Data.Span, decoded);
        var exact = Enumerable.Range(0, rows).Select(r => Enumerable.Range(0, cols).Sum(c => (double)decoded[r * cols + c] * x[c])).ToArray();
        var input = new Q8Rows(cols, 1);
        input.QuantizeReference(0, x);
        var packed = new PackedQ4(8, matrix);
        var y = new float[rows];
        fixed (float* p = y)
        {
            var call = new Q4Q8Call
            {
                Weights = packed.Data, GroupRows = 8, Blocks = packed.Blocks, GroupFrom = 0, GroupTo = packed.Groups, Rows = rows,
                Q = input.Q, Scales = input.Scales, ScaledSums = input.ScaledSums, M = 1, Y = p, YStride = rows,
            };
            Q4Q8.RunReference(&call);
        }
        for (var r = 0; r < rows; r++)
        {
            // Each input moved by at most d/2 of its block: the product moves by at most Σ |w| d/2 (plus float rounding).
            double bound = 0;
            for (var c = 0; c < cols; c++)
                bound += Math.Abs(decoded[r * cols + c]) * input.BlockScales(0)[c / 32] / 2;
            Assert.That(Math.Abs(y[r] - exact[r]), Is.LessThanOrEqualTo(bound * 1.001 + 1e-4), $"row {r}");
            Assert.That(Math.Abs(y[r] - exact[r]), Is.GreaterThan(0), "int8 activations are not exact: the bound is being tested");
        }
    }

    [Test]
    public void PackingRejectsMismatchedMatricesAndGroupSizes()
    {
        var random = new Random(2);
        Assert.That(() => new PackedQ4(8, RandomMatrix(random, 4, 64), RandomMatrix(random, 4, 96)), Throws.TypeOf<BulletArgumentException>());
        Assert.That(() => new PackedQ4(12, RandomMatrix(random, 4, 64)), Throws.TypeOf<BulletArgumentException>());
        Assert.That(() => new Q8Rows(48, 1), Throws.TypeOf<BulletArgumentException>());
    }
}
