using System.Buffers.Binary;
using System.Runtime.InteropServices;
using BulletNative.Builder;
using BulletNative.Format;

namespace BulletNative.Tests;

/// <summary>BQ4 (docs/format.md, BQ4 block): its bytes, quality against simpler schemes, SIMD against scalar.</summary>
public class Bq4Tests
{
    private static float[] Gaussian(Random random, int n, float sigma, float mean = 0)
    {
        var values = new float[n];
        for (var i = 0; i < n; i++) values[i] = mean + sigma * (float)RandomWeights.Gaussian(random);
        return values;
    }

    private static float[] RoundTrip(float[] values)
    {
        var data = new byte[Bq4.ByteCount(values.Length)];
        Bq4.Quantize(values, data);
        var decoded = new float[values.Length];
        Bq4.Dequantize(data, decoded);
        return decoded;
    }

    private static double SquaredError(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++) sum += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        return sum;
    }

    private static double RelativeRmse(ReadOnlySpan<float> values, ReadOnlySpan<float> decoded)
    {
        double norm = 0;
        foreach (var v in values) norm += (double)v * v;
        return Math.Sqrt(SquaredError(values, decoded) / norm);
    }

    /// <summary>Plain round-to-nearest asymmetric BQ4 with the scale rounded to half first: the bar to meet.</summary>
    private static float[] RoundToNearest(float[] values)
    {
        var decoded = new float[values.Length];
        for (var b = 0; b < values.Length; b += 32)
        {
            var block = values.AsSpan(b, 32);
            var min = block.ToArray().Min();
            var max = block.ToArray().Max();
            var scale = (float)(Half)((max - min) / 15);
            var zero = (int)Math.Clamp(MathF.Round(-min / scale), -128, 127);
            for (var i = 0; i < 32; i++)
            {
                var q = (int)Math.Clamp(MathF.Round(block[i] / scale) + zero, 0, 15);
                decoded[b + i] = (q - zero) * scale;
            }
        }
        return decoded;
    }

    /// <summary>
    /// What the reference builder does (docs/format.md, BQ4 block): scale = (max - min)/15 kept in float for the nibbles,
    /// zero = (int8)round(-min/scale), nibble = round((x - min)/scale), and the scale stored by cutting its float
    /// mantissa to 10 bits with subnormal halves flushed to 0 (read from its public source). The nibbles are
    /// measured from min while the decoder measures from the rounded zero point, hence the extra error.
    /// </summary>
    private static float[] ReferenceBuilder(float[] values)
    {
        var decoded = new float[values.Length];
        for (var b = 0; b < values.Length; b += 32)
        {
            var block = values.AsSpan(b, 32);
            var min = block.ToArray().Min();
            var max = block.ToArray().Max();
            var scale = MathF.Max((max - min) / 15f, 1e-8f);
            var zero = (sbyte)(int)MathF.Round(-min / scale, MidpointRounding.AwayFromZero);
            var stored = TruncateToHalf(scale);
            for (var i = 0; i < 32; i++)
            {
                var q = (int)Math.Clamp(MathF.Round((block[i] - min) / scale, MidpointRounding.AwayFromZero), 0, 15);
                decoded[b + i] = (q - zero) * stored;
            }
        }
        return decoded;
    }

    private static float TruncateToHalf(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        var exponent = (int)((bits >> 23) & 0xFF) - 127 + 15;
        if (exponent <= 0) return 0;
        if (exponent >= 31) return float.PositiveInfinity;
        return BitConverter.UInt32BitsToSingle(bits & 0xFFFFE000u);
    }

    [Test]
    public void SizesFollowTheBlockLayout()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Bq4.BlockCount(0), Is.EqualTo(0));
            Assert.That(Bq4.ByteCount(1), Is.EqualTo(20));
            Assert.That(Bq4.ByteCount(32), Is.EqualTo(20));
            Assert.That(Bq4.ByteCount(33), Is.EqualTo(40));
            Assert.That(Bq4.ByteCount(100L * 32), Is.EqualTo(2000));
            Assert.Throws<BulletArgumentException>(() => Bq4.ByteCount(-1));
        });
    }

    [Test]
    public void HandBuiltBlockDecodesToHandComputedValues()
    {
        // scale 0.5, zero -3: value = (nibble + 3) * 0.5; nibble of value i is i % 16, or 15 - i % 16 in the second half.
        var block = new byte[20];
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)0.5f);
        block[2] = unchecked((byte)(sbyte)-3);
        var nibbles = Enumerable.Range(0, 32).Select(i => i < 16 ? i : 31 - i).ToArray();
        for (var i = 0; i < 16; i++) block[4 + i] = (byte)(nibbles[2 * i] | nibbles[2 * i + 1] << 4);
        Assert.That(block[4], Is.EqualTo(0x10));
        Assert.That(block[19], Is.EqualTo(0x01));
        var expected = nibbles.Select(q => (q + 3) * 0.5f).ToArray();
        Assert.That(expected[..4], Is.EqualTo(new[] { 1.5f, 2f, 2.5f, 3f }));

        var reference = new float[32];
        var simd = new float[32];
        Bq4.DequantizeReference(block, reference);
        Bq4.Dequantize(block, simd);
        Assert.That(reference, Is.EqualTo(expected));
        Assert.That(simd, Is.EqualTo(expected));

        var tail = new float[5];
        Bq4.Dequantize(block, tail);
        Assert.That(tail, Is.EqualTo(expected[..5]));
    }

    [Test]
    public void GaussianWeightsBeatRoundToNearestAndTheReferenceBuilder()
    {
        var values = Gaussian(new Random(1234), 32 * 4096, 0.02f);
        var ours = RoundTrip(values);
        var rtn = RoundToNearest(values);
        var builder = ReferenceBuilder(values);
        var oursError = RelativeRmse(values, ours);
        var rtnError = RelativeRmse(values, rtn);
        var builderError = RelativeRmse(values, builder);
        TestContext.Out.WriteLine($"relative RMSE on Gaussian weights: ours {oursError:P2}, round-to-nearest {rtnError:P2}, " +
                                  $"reference builder {builderError:P2}");
        Assert.That(oursError, Is.LessThan(rtnError * 0.97), "the search should clearly improve on round-to-nearest");
        Assert.That(oursError, Is.LessThan(builderError * 0.8));
        // Round-to-nearest's (scale, zero) is one of the candidates, so no block may come out worse than it.
        for (var b = 0; b < values.Length; b += 32)
        {
            var mine = SquaredError(values.AsSpan(b, 32), ours.AsSpan(b, 32));
            var theirs = SquaredError(values.AsSpan(b, 32), rtn.AsSpan(b, 32));
            Assert.That(mine, Is.LessThanOrEqualTo(theirs * (1 + 1e-5)), $"block {b / 32}");
        }
    }

    [TestCase(1f, 0.01f)]
    [TestCase(1f, 0.001f)]
    [TestCase(-1f, 0.01f)]
    [TestCase(0.3f, 0.002f)]
    [TestCase(250f, 1f)]
    public void BlocksAwayFromZeroKeepTheirValues(float centre, float spread)
    {
        var random = new Random(99);
        var values = Gaussian(random, 32 * 64, spread, centre);
        var error = RelativeRmse(values, RoundTrip(values));
        var worstBlock = Enumerable.Range(0, 64)
            .Max(b => RelativeRmse(values.AsSpan(b * 32, 32), RoundTrip(values[(b * 32)..(b * 32 + 32)])));
        TestContext.Out.WriteLine($"{centre} ± {spread}: relative RMSE {error:P3}, worst block {worstBlock:P3}, " +
                                  $"reference builder {RelativeRmse(values, ReferenceBuilder(values)):P3}");
        Assert.That(worstBlock, Is.LessThan(0.01));
    }

    [Test]
    public void ConstantBlocksRoundTripExactly()
    {
        var random = new Random(7);
        var constants = new List<float> { 1f, -0.5f, 0.25f, -1f, 65504f, -65504f, 3 * 65504f, 143 * 65504f, -127 * 65504f,
            (float)Half.Epsilon, -(float)Half.Epsilon, 5 * (float)Half.Epsilon, (float)BitConverter.UInt16BitsToHalf(0x0400) };
        for (var i = 0; i < 300; i++)
        {
            var bits = (ushort)random.Next(0, 0x7C00);
            var h = BitConverter.UInt16BitsToHalf(bits);
            if ((float)h != 0) constants.Add(random.Next(2) == 0 ? (float)h : -(float)h);
        }
        foreach (var c in constants)
        {
            var values = Enumerable.Repeat(c, 32).ToArray();
            Assert.That(RoundTrip(values), Is.EqualTo(values), $"constant {c}");
            var reference = new byte[20];
            Bq4.QuantizeReference(values, reference);
            var decoded = new float[32];
            Bq4.DequantizeReference(reference, decoded);
            Assert.That(decoded, Is.EqualTo(values), $"constant {c}, reference encoder");
        }
    }

    [Test]
    public void ConstantBlocksNotRepresentableComeClose()
    {
        foreach (var c in new[] { 0.1f, 1.1f, -3.3333f, 1e-3f, 123456.7f })
        {
            var values = Enumerable.Repeat(c, 32).ToArray();
            var decoded = RoundTrip(values);
            Assert.That(decoded.Distinct().Count(), Is.EqualTo(1));
            Assert.That(Math.Abs(decoded[0] - c), Is.LessThanOrEqualTo(Math.Abs(c) * 2e-4), $"constant {c}");
        }
    }

    [Test]
    public void ZeroBlocksAreExactWithScaleZero()
    {
        var values = new float[70];
        var data = new byte[Bq4.ByteCount(values.Length)];
        Array.Fill(data, (byte)0xAA);
        Bq4.Quantize(values, data);
        Assert.That(data, Is.All.EqualTo(0));
        var decoded = Enumerable.Repeat(1f, 70).ToArray();
        Bq4.Dequantize(data, decoded);
        Assert.That(decoded, Is.All.EqualTo(0f));
        Bq4.Quantize(ReadOnlySpan<float>.Empty, Span<byte>.Empty);
    }

    [Test]
    public void ShortLastBlockIsPaddedWithZeros()
    {
        var values = Gaussian(new Random(5), 40, 1f, 3f);
        var data = new byte[40];
        Bq4.Quantize(values, data);
        var padded = new float[64];
        values.CopyTo(padded, 0);
        var expected = new byte[40];
        Bq4.QuantizeReference(padded, expected);
        Assert.That(data, Is.EqualTo(expected));
        var all = new float[64];
        Bq4.Dequantize(data, all);
        Assert.That(all[40..], Is.All.EqualTo(0f), "the padding zeros must decode to zero");
    }

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    public void NonFiniteValuesAreRejectedWithTheirIndex(float bad)
    {
        var values = Gaussian(new Random(3), 50, 1f);
        values[37] = bad;
        var data = new byte[Bq4.ByteCount(values.Length)];
        var simd = Assert.Throws<BulletArgumentException>(() => Bq4.Quantize(values, data))!;
        var scalar = Assert.Throws<BulletArgumentException>(() => Bq4.QuantizeReference(values, data))!;
        Assert.That(simd.Message, Does.Contain("index 37"));
        Assert.That(scalar.Message, Is.EqualTo(simd.Message));
    }

    [Test]
    public void ValuesBeyondHalfScalesAreRejected()
    {
        var wide = new float[32];
        wide[5] = 2e6f; // a block spanning 0..2e6 needs a scale of 1.3e5
        var ex = Assert.Throws<BulletArgumentException>(() => Bq4.Quantize(wide, new byte[20]))!;
        Assert.That(ex.Message, Does.Contain("index 5").And.Contain("65504"));
        Assert.Throws<BulletArgumentException>(() => Bq4.QuantizeReference(Enumerable.Repeat(1e7f, 32).ToArray(), new byte[20]));
        Assert.Throws<BulletArgumentException>(() => Bq4.Quantize(Enumerable.Repeat(-9e6f, 32).ToArray(), new byte[20]));

        var large = Enumerable.Repeat(9e6f, 32).ToArray(); // 9e6 / 143 still fits a half scale
        Assert.That(RelativeRmse(large, RoundTrip(large)), Is.LessThan(1e-3));
    }

    [Test]
    public void BuffersTooSmallAreRejected()
    {
        var ex = Assert.Throws<BulletArgumentException>(() => Bq4.Quantize(new float[33], new byte[39]))!;
        Assert.That(ex.Message, Does.Contain("40 bytes"));
        Assert.Throws<BulletArgumentException>(() => Bq4.Dequantize(new byte[20], new float[33]));
        Assert.Throws<BulletArgumentException>(() => Bq4.DequantizeReference(new byte[20], new float[33]));
    }

    private static IEnumerable<float[]> AwkwardInputs()
    {
        var random = new Random(2024);
        for (var i = 0; i < 400; i++)
        {
            var n = random.Next(1, 200);
            var kind = i % 10;
            var sigma = kind switch
            {
                0 => 1e-30f, 1 => 1e-6f, 2 => 1e4f, 3 => 3e4f, _ => (float)Math.Pow(10, random.NextDouble() * 6 - 4),
            };
            var values = Gaussian(random, n, sigma, kind == 4 ? 1f : kind == 5 ? -2f : 0f);
            if (kind == 6) // sparse: mostly zeros, a few repeated values
                for (var j = 0; j < n; j++) values[j] = random.Next(4) == 0 ? values[j] : 0f;
            if (kind == 7) // denormal floats
                for (var j = 0; j < n; j++) values[j] = BitConverter.UInt32BitsToSingle((uint)random.Next(1, 1 << 23)) * (random.Next(2) * 2 - 1);
            if (kind == 8) // few distinct half values, often exactly representable
                for (var j = 0; j < n; j++) values[j] = (float)(Half)(random.Next(-3, 13) * 0.125f);
            if (kind == 9) // constants, with and without a tail
                Array.Fill(values, (float)(Half)values[0]);
            yield return values;
        }
    }

    [Test]
    public void SimdEncoderMatchesTheReferenceByteForByte()
    {
        var count = 0;
        foreach (var values in AwkwardInputs())
        {
            var simd = new byte[Bq4.ByteCount(values.Length)];
            var reference = new byte[simd.Length];
            Bq4.Quantize(values, simd);
            Bq4.QuantizeReference(values, reference);
            Assert.That(simd, Is.EqualTo(reference), $"input {count} of length {values.Length}");
            for (var b = 0; b < simd.Length; b += 20)
            {
                var scale = BinaryPrimitives.ReadHalfLittleEndian(simd.AsSpan(b));
                Assert.That(Half.IsFinite(scale), $"input {count}: block {b / 20} scale {scale}");
                Assert.That(simd[b + 3], Is.EqualTo(0));
            }
            count++;
        }
        Assert.That(count, Is.EqualTo(400));
    }

    [Test]
    public void SimdDecoderMatchesTheReference()
    {
        var random = new Random(77);
        for (var i = 0; i < 200; i++)
        {
            var n = random.Next(0, 300);
            var data = new byte[Bq4.ByteCount(n) + random.Next(0, 3)];
            random.NextBytes(data);
            for (var b = 0; b + 20 <= data.Length; b += 20) // finite scales so the comparison is of numbers
                BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(b), BitConverter.UInt16BitsToHalf((ushort)(random.Next(0, 0x7C00) | random.Next(2) << 15)));
            var reference = new float[n];
            var simd = new float[n];
            Bq4.DequantizeReference(data, reference);
            Bq4.Dequantize(data, simd);
            Assert.That(MemoryMarshal.AsBytes(simd.AsSpan()).ToArray(), Is.EqualTo(MemoryMarshal.AsBytes(reference.AsSpan()).ToArray()));
        }
    }

    [Test]
    public void ReferenceFixtureTensorDecodesAndReencodesExactly()
    {
        // The first tensor of reference-tiny.bullet: 100 x 32 values, 100 blocks at file offset 5536.
        var file = File.ReadAllBytes(TestPaths.Fixture("reference-tiny.bullet"));
        var data = file.AsSpan(5536, 2000).ToArray();
        var decoded = new float[3200];
        Bq4.Dequantize(data, decoded);
        var reference = new float[3200];
        Bq4.DequantizeReference(data, reference);
        Assert.That(decoded, Is.EqualTo(reference));
        Assert.That(decoded.All(float.IsFinite));
        Assert.That(decoded.Distinct().Count(), Is.GreaterThan(1000), "a trained-looking tensor, not a constant");

        // A block whose nibbles reach both 0 and 15 spans exactly 15 scales, so our covering scale is its scale
        // and the encoder must find it: decoding our encoding gives back the same floats.
        var again = RoundTrip(decoded);
        var fullRange = 0;
        for (var b = 0; b < 100; b++)
        {
            var nibbles = data.AsSpan(b * 20 + 4, 16).ToArray().SelectMany(x => new[] { x & 0xF, x >> 4 }).ToArray();
            if (nibbles.Min() != 0 || nibbles.Max() != 15) continue;
            fullRange++;
            Assert.That(again.AsSpan(b * 32, 32).ToArray(), Is.EqualTo(decoded.AsSpan(b * 32, 32).ToArray()), $"block {b}");
        }
        TestContext.Out.WriteLine($"{fullRange} of 100 fixture blocks span the full nibble range and re-encode exactly; " +
                                  $"relative RMSE of re-encoding the whole tensor {RelativeRmse(decoded, again):P4}");
        Assert.That(fullRange, Is.GreaterThan(90));
        Assert.That(RelativeRmse(decoded, again), Is.LessThan(0.01));
    }
}
