using BulletNative.Format;

namespace BulletNative.Tests;

/// <summary>
/// Thousands of mutated and truncated files: each must end in a BulletFormatException or a valid result —
/// never another exception, a hang or a huge allocation.
/// </summary>
public class BulletReaderFuzzTests
{
    private static IEnumerable<TestCaseData> Sources()
    {
        yield return new TestCaseData("reference-tiny.bullet", 3000).SetName("FuzzReferenceTiny");
        yield return new TestCaseData("reference-597vocab.bullet", 400).SetName("FuzzReference597");
        yield return new TestCaseData("ours", 3000).SetName("FuzzOurs");
    }

    [TestCaseSource(nameof(Sources))]
    public void MutatedFilesFailCleanlyOrLoad(string source, int count)
    {
        var original = source == "ours"
            ? BulletWriter.ToBytes(TestModels.Tiny(vocab: 60, layers: 2))
            : File.ReadAllBytes(TestPaths.Fixture(source));
        var random = new Random(source.GetHashCode(StringComparison.Ordinal) ^ 12345);
        int loaded = 0, rejected = 0;
        var before = GC.GetTotalAllocatedBytes();
        for (var i = 0; i < count; i++)
        {
            var mutated = Mutate(original, random);
            try
            {
                var file = BulletReader.Read(mutated);
                Assert.That(file.Vocabulary.Count, Is.EqualTo(file.Dimensions.VocabSize));
                loaded++;
            }
            catch (BulletFormatException)
            {
                rejected++;
            }
        }
        var allocatedPerFile = (GC.GetTotalAllocatedBytes() - before) / count;
        TestContext.Out.WriteLine($"{source}: {loaded} loaded, {rejected} rejected, {allocatedPerFile} bytes allocated per file");
        Assert.That(loaded + rejected, Is.EqualTo(count));
        Assert.That(rejected, Is.GreaterThan(count / 4), "mutations should mostly break the file");
        // Besides the file copy itself, reading may allocate the parsed vocabulary and table, never much more.
        Assert.That(allocatedPerFile, Is.LessThan(original.Length * 4L + (4 << 20)));
    }

    /// <summary>One of: truncation, random byte flips, a large number written over a length field, a cut-out span.</summary>
    private static byte[] Mutate(byte[] original, Random random)
    {
        switch (random.Next(5))
        {
            case 0:
                return original[..random.Next(original.Length)];
            case 1:
            {
                var copy = (byte[])original.Clone();
                for (var k = random.Next(1, 8); k > 0; k--) copy[random.Next(copy.Length)] ^= (byte)random.Next(1, 256);
                return copy;
            }
            case 2:
            {
                var copy = (byte[])original.Clone();
                // Target the structured regions (header numbers, block counts, table entries) more than weight data.
                var at = random.Next(2) == 0 ? random.Next(Math.Min(copy.Length - 4, 20000)) : random.Next(copy.Length - 4);
                BitConverter.TryWriteBytes(copy.AsSpan(at), random.Next(3) switch { 0 => uint.MaxValue, 1 => 0x7FFF_FFFFu, _ => (uint)random.Next() });
                return copy;
            }
            case 3:
            {
                var copy = (byte[])original.Clone();
                // Header digits: change one digit of a number in the JSON text.
                var headerEnd = Array.IndexOf(copy, (byte)0);
                var at = random.Next(Math.Max(1, headerEnd));
                if (copy[at] is >= (byte)'0' and <= (byte)'9') copy[at] = (byte)('0' + random.Next(10));
                else copy[at] = (byte)random.Next(32, 127);
                return copy;
            }
            default:
            {
                var start = random.Next(original.Length);
                var length = random.Next(1, Math.Min(64, original.Length - start) + 1);
                return [.. original[..start], .. original[Math.Min(original.Length, start + length)..]];
            }
        }
    }
}
