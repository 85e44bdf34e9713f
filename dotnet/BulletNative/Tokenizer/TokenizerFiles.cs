using BulletNative.Format;
using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BulletNative.Tokenizer;

/// <summary>
/// Saving and loading by path. Save: "*.json" → tokenizer.json; a name ending in "vocab.txt" → that file plus the
/// merges file beside it (the last "vocab" of the name becomes "merges"); an existing folder or a path ending in
/// a separator → vocab.txt + merges.txt in it. Load: those, a folder with tokenizer.json (preferred) or vocab.txt,
/// or a .bullet file, whose tokenizer block is found through the header's file_offsets.tokenizer_start.
/// </summary>
public static class TokenizerFiles
{
    /// <summary>Saves <paramref name="tokenizer"/> in the form the path asks for.</summary>
    public static void Save(BulletTokenizer tokenizer, string path)
    {
        if (string.IsNullOrEmpty(path)) throw new BulletArgumentException("path must not be empty");
        if (Directory.Exists(path) || Path.EndsInDirectorySeparator(path))
        {
            Directory.CreateDirectory(path);
            SaveTextFiles(tokenizer, Path.Combine(path, "vocab.txt"), Path.Combine(path, "merges.txt"));
        }
        else if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            AtomicFile.WriteAllBytes(path, TokenizerJson.Write(tokenizer));
        else if (Path.GetFileName(path).EndsWith("vocab.txt", StringComparison.OrdinalIgnoreCase))
            SaveTextFiles(tokenizer, path, MergesPathFor(path));
        else if (path.EndsWith(".bullet", StringComparison.OrdinalIgnoreCase))
            throw new BulletArgumentException($"{path}: a tokenizer alone is not a .bullet file (that needs a model); save a tokenizer.json and build the .bullet with the model");
        else
            throw new BulletArgumentException($"{path}: say how to save the tokenizer by the path: a *.json file, a *vocab.txt file, or a folder");
    }

    /// <summary>Loads a tokenizer from any form <see cref="Save"/> writes, or from a .bullet file.</summary>
    public static BulletTokenizer Load(string path)
    {
        if (string.IsNullOrEmpty(path)) throw new BulletArgumentException("path must not be empty");
        if (Directory.Exists(path))
        {
            var json = Path.Combine(path, "tokenizer.json");
            if (File.Exists(json)) return TokenizerJson.Read(File.ReadAllBytes(json), json);
            var vocab = Path.Combine(path, "vocab.txt");
            if (File.Exists(vocab)) return LoadTextFiles(vocab);
            throw new FileNotFoundException($"folder {path} holds neither tokenizer.json nor vocab.txt");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer file {path} does not exist");
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return TokenizerJson.Read(File.ReadAllBytes(path), path);
        if (path.EndsWith(".bullet", StringComparison.OrdinalIgnoreCase)) return LoadFromBullet(path);
        if (path.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)) return LoadTextFiles(path);
        throw new BulletArgumentException($"{path}: expected a tokenizer.json, a vocab.txt, a .bullet file or a folder");
    }

    private static void SaveTextFiles(BulletTokenizer tokenizer, string vocabPath, string mergesPath)
    {
        // Build both before writing either, so a token the format cannot hold leaves no half-written pair.
        var vocab = TokenizerTextFiles.WriteVocab(tokenizer);
        var merges = TokenizerTextFiles.WriteMerges(tokenizer);
        AtomicFile.WriteAllBytes(vocabPath, vocab);
        AtomicFile.WriteAllBytes(mergesPath, merges);
    }

    private static BulletTokenizer LoadTextFiles(string vocabPath)
    {
        var mergesPath = MergesPathFor(vocabPath);
        var merges = mergesPath != vocabPath && File.Exists(mergesPath) ? File.ReadAllBytes(mergesPath) : [];
        return TokenizerTextFiles.Read(File.ReadAllBytes(vocabPath), merges);
    }

    private static string MergesPathFor(string vocabPath)
    {
        var name = Path.GetFileName(vocabPath);
        var at = name.LastIndexOf("vocab", StringComparison.OrdinalIgnoreCase);
        var mergesName = at < 0 ? "merges.txt" : name[..at] + "merges" + name[(at + "vocab".Length)..];
        return Path.Combine(Path.GetDirectoryName(vocabPath) ?? "", mergesName);
    }

    /// <summary>The tokenizer of a .bullet file, read and validated by the .bullet reader.</summary>
    public static BulletTokenizer LoadFromBullet(string path) => BulletTokenizer.FromVocabulary(BulletReader.ReadFile(path).Vocabulary);
}
