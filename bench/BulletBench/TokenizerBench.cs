using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using BulletNative.Tokenizer;

namespace BulletBench;

/// <summary>
/// Tokenizer speed on tinyshakespeare: BPE training to 4,000 tokens, encoding the whole text, and the fast encoder
/// against the plain definition of docs/format.md, Tokenizer block (every merge in order over every word) on a slice.
/// Times are best-of-N; each is printed as wall time and as this thread's CPU time, which is what "one core" means
/// when other processes share the machine. Usage: tokenizer [vocab_size]
/// </summary>
public static partial class TokenizerBench
{
    public static void Run(string[] args)
    {
        var vocabSize = args.Length > 0 ? int.Parse(args[0]) : 4000;
        var path = Path.Combine(RepoRoot(), "..", "shared", "data", "tinyshakespeare.txt");
        var text = File.ReadAllBytes(path);
        var megabytes = text.Length / 1e6;
        Console.WriteLine($"text: {Path.GetFullPath(path)} ({text.Length:N0} bytes), one thread");

        var options = new TokenizerTrainingOptions { VocabSize = vocabSize };
        BulletTokenizer tokenizer = null!;
        var train = Best(() => tokenizer = BpeTrainer.Train(text, options), repeats: 2);
        var report = tokenizer.TrainingReport!;
        Console.WriteLine($"train: {train} for {report.VocabSize} tokens ({report.Merges} merges, {report.AlphabetSize} characters, " +
                          $"{report.DistinctWords:N0} distinct words; stop: {report.StopReason}); aim < 5 s");

        // Cold: a fresh tokenizer, so every distinct word is encoded once; warm: the word cache is full.
        int[] ids = [];
        var fresh = Enumerable.Range(0, 4).Select(_ => BulletTokenizer.FromParts(tokenizer.Tokens, tokenizer.Scores, tokenizer.Merges)).ToArray();
        var run = 0;
        var cold = Best(() => ids = fresh[run++].Encode(text), repeats: 3);
        var warm = Best(() => ids = tokenizer.Encode(text), repeats: 5);
        Console.WriteLine($"encode (cold cache): {cold}, {cold.Rate(megabytes)} MB/s; aim > 10 MB/s");
        Console.WriteLine($"encode (warm cache): {warm}, {warm.Rate(megabytes)} MB/s; {ids.Length:N0} tokens, {(double)text.Length / ids.Length:F2} bytes/token");

        // The definition is slow, so it runs on a slice; the fast encoder runs cold on the same slice.
        var slice = SliceAtSpace(text, 50_000);
        var reference = Stopwatch.StartNew();
        var expected = DefinitionEncode(tokenizer, slice);
        var referenceSeconds = reference.Elapsed.TotalSeconds;
        var sliceTokenizers = Enumerable.Range(0, 4).Select(_ => BulletTokenizer.FromParts(tokenizer.Tokens, tokenizer.Scores, tokenizer.Merges)).ToArray();
        int[] actual = [];
        run = 0;
        var fastSeconds = Best(() => actual = sliceTokenizers[run++].Encode(slice), repeats: 3).Wall;
        var same = expected.AsSpan().SequenceEqual(actual);
        Console.WriteLine($"definition encoder on {slice.Length:N0} bytes: {referenceSeconds:F3} s; fast encoder (cold): {fastSeconds:F4} s; " +
                          $"ratio {referenceSeconds / fastSeconds:F0}x; same ids: {same}");
        if (!same) throw new InvalidOperationException("the fast encoder disagrees with the definition");
    }

    private readonly record struct Seconds(double Wall, double Cpu)
    {
        public override string ToString() => $"{Wall:F3} s (thread CPU {Cpu:F3} s)";

        public string Rate(double megabytes) => $"{megabytes / Wall:F1} (per CPU second {megabytes / Cpu:F1})";
    }

    // Best wall time and best thread CPU time of repeated runs, after one warm-up run.
    private static Seconds Best(Action body, int repeats)
    {
        body();
        var (wall, cpu) = (double.MaxValue, double.MaxValue);
        for (var i = 0; i < repeats; i++)
        {
            var cpuStart = ThreadCpuSeconds();
            var clock = Stopwatch.StartNew();
            body();
            wall = Math.Min(wall, clock.Elapsed.TotalSeconds);
            cpu = Math.Min(cpu, ThreadCpuSeconds() - cpuStart);
        }
        return new Seconds(wall, cpu);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    private static double ThreadCpuSeconds()
    {
        const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID on Linux
        ClockGetTime(ClockThreadCpuTime, out var time);
        return time.Seconds + time.Nanoseconds * 1e-9;
    }

    private static byte[] SliceAtSpace(byte[] text, int length)
    {
        var end = Array.IndexOf(text, (byte)' ', Math.Min(length, text.Length - 1));
        return text[..(end < 0 ? text.Length : end)];
    }

    // docs/format.md, Tokenizer block, step by step, with byte strings: the plain loop the fast encoder must equal.
    private static int[] DefinitionEncode(BulletTokenizer tokenizer, byte[] text)
    {
        var ids = new Dictionary<string, int>();
        for (var i = 0; i < tokenizer.VocabSize; i++) ids.TryAdd(Convert.ToHexString(tokenizer.Tokens[i]), i);
        var merges = tokenizer.Merges.Select(m => (A: Convert.ToHexString(m.A), B: Convert.ToHexString(m.B))).ToArray();
        var output = new List<int>();
        var s = Encoding.UTF8.GetString(text);
        var i0 = 0;
        while (i0 < s.Length)
        {
            if (s[i0] == ' ')
            {
                output.Add(ids.GetValueOrDefault(Convert.ToHexString(" "u8), 0));
                i0++;
                continue;
            }
            var end = s.IndexOf(' ', i0);
            if (end < 0) end = s.Length;
            var pieces = s[i0..end].EnumerateRunes().Select(r => Convert.ToHexString(Encoding.UTF8.GetBytes(r.ToString()))).ToList();
            foreach (var (a, b) in merges)
            {
                var joined = new List<string>();
                for (var k = 0; k < pieces.Count; k++)
                {
                    if (k + 1 < pieces.Count && pieces[k] == a && pieces[k + 1] == b)
                    {
                        joined.Add(a + b);
                        k++;
                    }
                    else joined.Add(pieces[k]);
                }
                pieces = joined;
            }
            output.AddRange(pieces.Select(p => ids.GetValueOrDefault(p, 0)));
            i0 = end;
        }
        return [.. output];
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "build.sh"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (build.sh)");
    }
}
