using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using BulletNative.Tokenizer;

namespace BulletNative.Interop;

/// <summary>C exports of the tokenizer: train, load, save, encode, decode, describe. Handles are freed with bullet_free_handle.</summary>
internal static unsafe class TokenizerExports
{
    /// <summary>Trains on <paramref name="text"/> (length bytes of UTF-8) or, when text is null, on the file at <paramref name="path"/>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_tokenizer_train")]
    public static int Train(byte* text, long length, byte* path, byte* options, long* outHandle) => NativeCall.Run(() =>
    {
        var settings = TokenizerTrainingOptions.FromJson(NativeCall.JsonArgument(options, "options"));
        var file = NativeCall.OptionalUtf8(path);
        if (text != null && file != null) throw new BulletArgumentException("give either text or path to train on, not both");
        BulletTokenizer tokenizer;
        if (text != null) tokenizer = BpeTrainer.Train(NativeCall.Input(text, length, "text"), settings);
        else if (file != null) tokenizer = BpeTrainer.TrainFile(file, settings);
        else throw new BulletArgumentException("give either text or path to train on");
        NativeCall.ReturnHandle(tokenizer, outHandle);
    });

    /// <summary>Loads a tokenizer.json, vocab.txt (+ merges.txt), folder, or a .bullet file's tokenizer block.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_tokenizer_load")]
    public static int Load(byte* path, long* outHandle) => NativeCall.Run(() =>
        NativeCall.ReturnHandle(BulletTokenizer.Load(NativeCall.Utf8(path, "path")), outHandle));

    /// <summary>Saves by the path's form: *.json, *vocab.txt (+ merges.txt beside it), or a folder.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_tokenizer_save")]
    public static int Save(long handle, byte* path) => NativeCall.Run(() =>
        HandleTable.Get<BulletTokenizer>(handle).Save(NativeCall.Utf8(path, "path")));

    /// <summary>JSON facts: vocab_size, mode, merges, alphabet_size, unk/space ids, and the training report when trained here.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_tokenizer_info")]
    public static int Info(long handle, byte** outData, long* outLength) => NativeCall.Run(() =>
        NativeCall.ReturnJson(HandleTable.Get<BulletTokenizer>(handle).Describe(), outData, outLength));

    /// <summary>Every token (as text; bytes that are not UTF-8 shown as U+FFFD), score (non-finite ones as 0) and merge, as JSON.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_tokenizer_vocab")]
    public static int Vocab(long handle, byte** outData, long* outLength) => NativeCall.Run(() =>
    {
        var tokenizer = HandleTable.Get<BulletTokenizer>(handle);
        var tokens = new JsonArray();
        foreach (var t in tokenizer.Tokens) tokens.Add((JsonNode)Encoding.UTF8.GetString(t));
        var scores = new JsonArray();
        foreach (var s in tokenizer.Scores) scores.Add((JsonNode)(float.IsFinite(s) ? s : 0f));
        var merges = new JsonArray();
        foreach (var (a, b) in tokenizer.Merges) merges.Add((JsonNode)new JsonArray(Encoding.UTF8.GetString(a), Encoding.UTF8.GetString(b)));
        NativeCall.ReturnJson(new JsonObject { ["tokens"] = tokens, ["scores"] = scores, ["merges"] = merges }, outData, outLength);
    });

    /// <summary>Encodes length bytes of UTF-8; returns the ids as little-endian int32.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_tokenizer_encode")]
    public static int Encode(long handle, byte* text, long length, byte** outData, long* outLength) => NativeCall.Run(() =>
    {
        var ids = HandleTable.Get<BulletTokenizer>(handle).Encode(NativeCall.Input(text, length, "text"));
        NativeCall.ReturnBytes(MemoryMarshal.AsBytes(ids.AsSpan()), outData, outLength);
    });

    /// <summary>
    /// Encodes <paramref name="count"/> texts laid end to end in <paramref name="data"/>, text i being bytes
    /// offsets[i]..offsets[i+1]; returns count int64 id counts followed by all ids as int32.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_tokenizer_encode_batch")]
    public static int EncodeBatch(long handle, byte* data, long* offsets, long count, int threads, byte** outData, long* outLength) => NativeCall.Run(() =>
    {
        var tokenizer = HandleTable.Get<BulletTokenizer>(handle);
        if (count < 0) throw new BulletArgumentException($"count {count} must not be negative");
        var bounds = NativeCall.Input(offsets, count == 0 ? 0 : count + 1, "offsets");
        var texts = new ReadOnlyMemory<byte>[count];
        var all = count == 0 ? [] : NativeCall.Input(data, bounds[^1], "data").ToArray();
        for (var i = 0; i < count; i++)
        {
            if (bounds[i] < 0 || bounds[i] > bounds[i + 1] || bounds[i + 1] > all.Length)
                throw new BulletArgumentException($"offsets[{i}]..offsets[{i + 1}] ({bounds[i]}..{bounds[i + 1]}) is not a range inside the data");
            texts[i] = all.AsMemory((int)bounds[i], (int)(bounds[i + 1] - bounds[i]));
        }
        var results = tokenizer.EncodeBatch(texts, threads);
        var output = new byte[8L * count + 4L * results.Sum(r => (long)r.Length)];
        var lengths = MemoryMarshal.Cast<byte, long>(output.AsSpan(0, (int)(8 * count)));
        var ids = MemoryMarshal.Cast<byte, int>(output.AsSpan((int)(8 * count)));
        var at = 0;
        for (var i = 0; i < results.Length; i++)
        {
            lengths[i] = results[i].Length;
            results[i].CopyTo(ids[at..]);
            at += results[i].Length;
        }
        NativeCall.ReturnBytes(output, outData, outLength);
    });

    /// <summary>Decodes <paramref name="count"/> int32 ids to UTF-8 (the tokens' bytes, concatenated).</summary>
    [UnmanagedCallersOnly(EntryPoint = "bullet_tokenizer_decode")]
    public static int Decode(long handle, int* ids, long count, byte** outData, long* outLength) => NativeCall.Run(() =>
    {
        var tokenizer = HandleTable.Get<BulletTokenizer>(handle);
        NativeCall.ReturnBytes(tokenizer.DecodeToUtf8(NativeCall.Input(ids, count, "ids")), outData, outLength);
    });
}
