using System.Diagnostics;
using System.IO.Compression;
using System.Text;

namespace BulletBench;

/// <summary>
/// English texts for the training benches, obtained at run time and never committed: tinyshakespeare from the
/// shared data folder beside the repository, and public-domain texts that Debian packages ship — Jane Austen's
/// "Pride and Prejudice" (r-cran-janeaustenr, the novel's lines as an R character vector) and the Jargon File
/// (dict-jargon, a gzip-compatible dictd file). Packages are fetched with `apt-get download` (not installed) into
/// the cache folder, and the extracted text is kept there.
/// </summary>
public static class BenchTexts
{
    /// <summary>The names the benches accept.</summary>
    public static IReadOnlyList<string> Names { get; } = ["shakespeare", "austen", "jargon"];

    /// <summary>The text called <paramref name="name"/>, fetched and extracted on first use.</summary>
    public static string Load(string name) => name switch
    {
        "shakespeare" => File.ReadAllText(Path.Combine(TrainShakespeareBench.RepoRoot(), "..", "shared", "data", "tinyshakespeare.txt")),
        "austen" => Cached("pride-and-prejudice.txt", () => PrideAndPrejudice(Package("r-cran-janeaustenr"))),
        "jargon" => Cached("jargon-file.txt", () => JargonFile(Package("dict-jargon"))),
        _ => throw new ArgumentException($"unknown text '{name}' (choose from {string.Join(", ", Names)})"),
    };

    private static string Folder => Path.Combine(Path.GetDirectoryName(BulletNative.Training.TrainSpeed.CachePath)!, "bench-texts");

    private static string Cached(string file, Func<string> make)
    {
        var path = Path.Combine(Folder, file);
        if (File.Exists(path)) return File.ReadAllText(path);
        var text = make();
        Directory.CreateDirectory(Folder);
        File.WriteAllText(path, text);
        return text;
    }

    /// <summary>Downloads a Debian package (without installing it) and unpacks it into a folder; returns the folder.</summary>
    private static string Package(string name)
    {
        var folder = Path.Combine(Folder, name);
        if (Directory.Exists(folder)) return folder;
        var download = Path.Combine(Folder, "download");
        Directory.CreateDirectory(download);
        if (!Run("apt-get", $"download {name}", download))
        {
            Run("apt-get", "update -qq", download);
            if (!Run("apt-get", $"download {name}", download)) throw new InvalidOperationException($"apt-get download {name} failed");
        }
        var deb = Directory.GetFiles(download, $"{name}_*.deb").Single();
        if (!Run("dpkg", $"-x {deb} {folder}", download)) throw new InvalidOperationException($"dpkg -x {deb} failed");
        return folder;
    }

    private static bool Run(string file, string arguments, string directory)
    {
        var info = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) Console.Error.WriteLine(error);
        return process.ExitCode == 0;
    }

    /// <summary>The dictd file decompressed as it is (entries of headword, pronunciation and prose).</summary>
    private static string JargonFile(string folder)
    {
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(folder, "usr/share/dictd/jargon.dict.dz")), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// The novel from the package's lazy-load database: zlib blocks, each after its 4-byte uncompressed length, each
    /// an R serialization (XDR) of one character vector whose strings are a novel's lines. The block boundaries are
    /// in an index we need not parse: every place that starts like a block is tried.
    /// </summary>
    private static string PrideAndPrejudice(string folder)
    {
        var bytes = File.ReadAllBytes(Directory.GetFiles(folder, "Rdata.rdb", SearchOption.AllDirectories).Single());
        for (var at = 0; at + 6 < bytes.Length; at++)
        {
            if (bytes[at + 4] != 0x78 || bytes[at + 5] != 0x9C) continue; // zlib's header at default compression
            var length = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
            if (length is <= 16 or > 64 << 20) continue;
            try
            {
                using var zlib = new ZLibStream(new MemoryStream(bytes, at + 4, bytes.Length - at - 4), CompressionMode.Decompress);
                using var blob = new MemoryStream();
                zlib.CopyTo(blob);
                if (blob.Length != length || blob.GetBuffer()[0] != 'X') continue;
                var lines = RStrings(blob.ToArray());
                if (lines.FirstOrDefault(l => l.Length > 0) is { } title && title.Contains("PRIDE AND PREJUDICE", StringComparison.OrdinalIgnoreCase))
                    return string.Join("\n", lines) + "\n";
            }
            catch (Exception e) when (e is InvalidDataException or InvalidOperationException or IndexOutOfRangeException or ArgumentException)
            {
                // not a block after all
            }
        }
        throw new InvalidOperationException("Pride and Prejudice was not found in the janeaustenr data");
    }

    private static List<string> RStrings(byte[] data)
    {
        var at = 2; // "X\n": XDR
        int Int() { var v = (data[at] << 24) | (data[at + 1] << 16) | (data[at + 2] << 8) | data[at + 3]; at += 4; return v; }
        var version = Int();
        Int(); Int(); // writer's and reader's R versions
        if (version == 3)
        {
            var encodingName = Int(); // its length, then the name, which we skip
            at += encodingName;
        }
        if ((Int() & 0xFF) != 16) throw new InvalidOperationException("not a character vector");
        var count = Int();
        var lines = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            Int(); // CHARSXP flags
            var length = Int();
            lines.Add(length < 0 ? "" : Encoding.UTF8.GetString(data, at, length));
            at += Math.Max(0, length);
        }
        return lines;
    }
}
