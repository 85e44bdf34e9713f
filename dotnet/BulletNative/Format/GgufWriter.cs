using System.Buffers.Binary;
using System.Text;

namespace BulletNative.Format;

/// <summary>A tensor as the file describes it: dims innermost first (ne[0] = in_features), type, offset from the data start.</summary>
public sealed record GgufTensorInfo(string Name, long[] Dims, GgufTensorType Type, long Offset, long Bytes);

/// <summary>Where everything lands: the header's size, the (aligned) data start, each tensor's offset, the file size.</summary>
public sealed record GgufLayout(long HeaderBytes, long DataStart, IReadOnlyList<GgufTensorInfo> Tensors, long FileBytes);

/// <summary>
/// Writes a GGUF v3 file in three explicit phases: <b>collect</b> (metadata and tensors are added, nothing is encoded),
/// <b>plan</b> (<see cref="Plan"/> fixes every offset: header, padding to <see cref="Alignment"/>, each tensor padded
/// to it), <b>write</b> (the header from the plan, then each tensor encoded straight into the stream, and the
/// stream position checked against the plan at every tensor). A file whose offsets disagree with its header
/// cannot be produced: the writer throws instead.
/// </summary>
public sealed class GgufWriter
{
    /// <summary>The alignment written as general.alignment; the data start and every tensor offset are multiples of it.</summary>
    public const int Alignment = 32;

    private const uint Magic = 0x46554747; // "GGUF" read as a little-endian u32
    private const uint Version = 3;

    private readonly List<(string Key, GgufValueType Type, object Value)> _metadata = [];
    private readonly List<(string Name, long[] Dims, GgufTensorType Type, ReadOnlyMemory<float> Values)> _tensors = [];
    private GgufLayout? _layout;

    /// <summary>A writer whose first key is general.alignment, so readers never rely on the default.</summary>
    public GgufWriter() => Add("general.alignment", (uint)Alignment);

    /// <summary>Metadata keys in the order added.</summary>
    public IEnumerable<string> Keys => _metadata.Select(m => m.Key);

    /// <summary>Adds a string value.</summary>
    public void Add(string key, string value) => AddValue(key, GgufValueType.String, value);

    /// <summary>Adds a u32 value.</summary>
    public void Add(string key, uint value) => AddValue(key, GgufValueType.UInt32, value);

    /// <summary>Adds an f32 value.</summary>
    public void Add(string key, float value) => AddValue(key, GgufValueType.Float32, value);

    /// <summary>Adds a bool value.</summary>
    public void Add(string key, bool value) => AddValue(key, GgufValueType.Bool, value);

    /// <summary>Adds an array of strings.</summary>
    public void Add(string key, IReadOnlyList<string> values) => AddValue(key, GgufValueType.Array, values.ToArray());

    /// <summary>Adds an array of i32.</summary>
    public void Add(string key, IReadOnlyList<int> values) => AddValue(key, GgufValueType.Array, values.ToArray());

    /// <summary>
    /// Adds a tensor of <paramref name="values"/> with dims innermost first; block types need dims[0] to be a multiple of
    /// the block size, because ggml quantizes each row on its own.
    /// </summary>
    public void AddTensor(string name, long[] dims, GgufTensorType type, ReadOnlyMemory<float> values)
    {
        RequireCollecting();
        if (dims.Length is < 1 or > 4) throw new BulletArgumentException($"tensor \"{name}\" has {dims.Length} dims; GGUF allows 1 to 4");
        if (dims.Any(d => d <= 0)) throw new BulletArgumentException($"tensor \"{name}\" has a dim that is not positive");
        var count = dims.Aggregate(1L, (a, b) => a * b);
        if (count != values.Length) throw new BulletArgumentException($"tensor \"{name}\": dims hold {count} values but {values.Length} are given");
        var info = GgufTypes.Info(type);
        if (dims[0] % info.BlockValues != 0)
            throw new BulletArgumentException($"tensor \"{name}\": row length {dims[0]} is not a multiple of {info.Name}'s block of {info.BlockValues}");
        if (_tensors.Any(t => t.Name == name)) throw new BulletArgumentException($"tensor \"{name}\" is added twice");
        _tensors.Add((name, dims, type, values));
    }

    /// <summary>Phase two: fixes the layout; after this nothing can be added.</summary>
    public GgufLayout Plan()
    {
        if (_layout != null) return _layout;
        var header = HeaderBytes(null);
        long offset = 0;
        var infos = new List<GgufTensorInfo>();
        foreach (var (name, dims, type, values) in _tensors)
        {
            var bytes = GgufTypes.Info(type).BytesFor(values.Length);
            infos.Add(new GgufTensorInfo(name, dims, type, offset, bytes));
            offset = Align(offset + bytes);
        }
        var dataStart = Align(header.Length);
        var end = infos.Count == 0 ? dataStart : dataStart + infos[^1].Offset + infos[^1].Bytes;
        _layout = new GgufLayout(header.Length, dataStart, infos, end);
        return _layout;
    }

    /// <summary>Phase three: writes the planned file to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        var layout = Plan();
        var header = HeaderBytes(layout);
        if (header.Length != layout.HeaderBytes) throw new InvalidOperationException("GGUF header size changed between plan and write");
        var start = stream.CanSeek ? stream.Position : 0;
        long written = 0;
        void Put(ReadOnlySpan<byte> bytes) { stream.Write(bytes); written += bytes.Length; }
        void PadTo(long position)
        {
            if (written > position) throw new InvalidOperationException($"GGUF writer overran offset {position}");
            Put(new byte[position - written]);
        }

        Put(header);
        PadTo(layout.DataStart);
        for (var i = 0; i < _tensors.Count; i++)
        {
            var info = layout.Tensors[i];
            PadTo(layout.DataStart + info.Offset);
            var buffer = new byte[info.Bytes];
            GgufTypes.Encode(info.Type, _tensors[i].Values.Span, buffer);
            Put(buffer);
        }
        if (written != layout.FileBytes || (stream.CanSeek && stream.Position - start != layout.FileBytes))
            throw new InvalidOperationException($"GGUF writer wrote {written} bytes but planned {layout.FileBytes}");
    }

    /// <summary>Writes the file atomically (temp file + rename).</summary>
    public GgufLayout WriteFile(string path)
    {
        var layout = Plan();
        AtomicFile.Write(path, WriteTo);
        return layout;
    }

    /// <summary>The header: magic, version, counts, metadata, tensor infos (offsets 0 before planning; same size either way).</summary>
    private byte[] HeaderBytes(GgufLayout? layout)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, type, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)type);
            WriteValue(w, type, value);
        }
        for (var i = 0; i < _tensors.Count; i++)
        {
            var (name, dims, type, _) = _tensors[i];
            WriteString(w, name);
            w.Write((uint)dims.Length);
            foreach (var d in dims) w.Write((ulong)d);
            w.Write((uint)type);
            w.Write((ulong)(layout?.Tensors[i].Offset ?? 0));
        }
        w.Flush();
        return ms.ToArray();
    }

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value)
    {
        switch (value)
        {
            case string s: WriteString(w, s); break;
            case uint u: w.Write(u); break;
            case float f: w.Write(f); break;
            case bool b: w.Write((byte)(b ? 1 : 0)); break;
            case string[] strings:
                w.Write((uint)GgufValueType.String);
                w.Write((ulong)strings.Length);
                foreach (var s in strings) WriteString(w, s);
                break;
            case int[] ints:
                w.Write((uint)GgufValueType.Int32);
                w.Write((ulong)ints.Length);
                foreach (var i in ints) w.Write(i);
                break;
            default: throw new InvalidOperationException($"no GGUF encoding for {type} {value.GetType().Name}");
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private void AddValue(string key, GgufValueType type, object value)
    {
        RequireCollecting();
        if (string.IsNullOrEmpty(key)) throw new BulletArgumentException("a GGUF key must not be empty");
        if (_metadata.Any(m => m.Key == key)) throw new BulletArgumentException($"GGUF key \"{key}\" is added twice");
        _metadata.Add((key, type, value));
    }

    private void RequireCollecting()
    {
        if (_layout != null) throw new InvalidOperationException("the GGUF layout is planned; nothing more can be added");
    }

    private static long Align(long offset) => (offset + Alignment - 1) / Alignment * Alignment;
}
