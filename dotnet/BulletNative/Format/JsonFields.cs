using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BulletNative.Format;

/// <summary>
/// Typed reads of JSON values: a caller's options and configs, or the JSON inside a file. Errors name the field and
/// show what it held ("top_k must be an integer, not \"five\""). A caller's values fail with BulletArgumentException,
/// a file's with BulletFormatException, so the status says who has to fix it.
/// </summary>
internal readonly struct JsonFields
{
    private const int ShownChars = 80;
    private const double TwoTo63 = 9223372036854775808.0;

    /// <summary>What holds the fields, at the start of messages ("config.json", "the header"); null for options.</summary>
    private readonly string? _where;
    /// <summary>Keys of the enclosing objects ("dimensions."), so a message names the field from the top.</summary>
    private readonly string _path;
    private readonly bool _fileContent;

    private JsonFields(string? where, string path, bool fileContent)
    {
        _where = where;
        _path = path;
        _fileContent = fileContent;
    }

    /// <summary>A caller's options: BulletArgumentException, messages name the key alone.</summary>
    public static JsonFields Options => new(null, "", fileContent: false);

    /// <summary>A document the caller chose (a model folder's config.json): BulletArgumentException, messages start with <paramref name="where"/>.</summary>
    public static JsonFields Of(string where) => new(where, "", fileContent: false);

    /// <summary>JSON inside a file being read: BulletFormatException, messages start with <paramref name="where"/>.</summary>
    public static JsonFields OfFile(string where) => new(where, "", fileContent: true);

    /// <summary>The fields of the object under <paramref name="key"/>: messages name them "key.field".</summary>
    public JsonFields Nested(string key) => new(_where, _path + key + ".", _fileContent);

    // ---- one value (null is a wrong kind, shown as null) ----------------------------------------------------------

    /// <summary>A whole number that fits an int (3, 3.0 and 3e0 all read as 3).</summary>
    public int Int(JsonNode? value, string name) => (int)Whole(value, name, int.MinValue, int.MaxValue);

    /// <summary>A whole number that fits a long, read exactly (not through a double).</summary>
    public long Long(JsonNode? value, string name) => Whole(value, name, long.MinValue, long.MaxValue);

    /// <summary>A finite number.</summary>
    public double Number(JsonNode? value, string name)
    {
        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            // Parsed JSON and values built in code hold numbers differently; the text form reads the same for both.
            if (!v.TryGetValue<double>(out var number))
                number = double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            if (double.IsFinite(number)) return number;
        }
        throw WrongKind(value, name, "a number");
    }

    /// <summary>true or false (not 0, 1 or "true").</summary>
    public bool Bool(JsonNode? value, string name) => value?.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw WrongKind(value, name, "true or false"),
    };

    /// <summary>A string (not a number written as one).</summary>
    public string String(JsonNode? value, string name) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw WrongKind(value, name, "a string");

    /// <summary>A JSON object.</summary>
    public JsonObject Object(JsonNode? value, string name) => value as JsonObject ?? throw WrongKind(value, name, "an object");

    /// <summary>A list whose items each read with <paramref name="item"/>; an item's errors name it "name[i]".</summary>
    public List<T> List<T>(JsonNode? value, string name, Func<JsonNode?, string, T> item)
    {
        var array = value as JsonArray ?? throw WrongKind(value, name, "a list");
        var items = new List<T>(array.Count);
        for (var i = 0; i < array.Count; i++) items.Add(item(array[i], $"{name}[{i}]"));
        return items;
    }

    // ---- a field of an object (absent and null are the same) ------------------------------------------------------

    /// <summary><paramref name="key"/> as <see cref="Int"/> reads it, or null when absent or null.</summary>
    public int? OptionalInt(JsonObject json, string key) => json[key] is { } value ? Int(value, key) : null;
    /// <summary><paramref name="key"/> as <see cref="Long"/> reads it, or null when absent or null.</summary>
    public long? OptionalLong(JsonObject json, string key) => json[key] is { } value ? Long(value, key) : null;
    /// <summary><paramref name="key"/> as <see cref="Number"/> reads it, or null when absent or null.</summary>
    public double? OptionalNumber(JsonObject json, string key) => json[key] is { } value ? Number(value, key) : null;
    /// <summary><paramref name="key"/> as <see cref="Bool"/> reads it, or null when absent or null.</summary>
    public bool? OptionalBool(JsonObject json, string key) => json[key] is { } value ? Bool(value, key) : null;
    /// <summary><paramref name="key"/> as <see cref="String"/> reads it, or null when absent or null.</summary>
    public string? OptionalString(JsonObject json, string key) => json[key] is { } value ? String(value, key) : null;

    /// <summary><paramref name="key"/> as <see cref="Int"/> reads it; absent or null is an error naming the key.</summary>
    public int RequiredInt(JsonObject json, string key) => Int(Required(json, key), key);
    /// <summary><paramref name="key"/> as <see cref="Long"/> reads it; absent or null is an error naming the key.</summary>
    public long RequiredLong(JsonObject json, string key) => Long(Required(json, key), key);
    /// <summary><paramref name="key"/> as <see cref="String"/> reads it; absent or null is an error naming the key.</summary>
    public string RequiredString(JsonObject json, string key) => String(Required(json, key), key);
    /// <summary><paramref name="key"/> as <see cref="Object"/> reads it; absent or null is an error naming the key.</summary>
    public JsonObject RequiredObject(JsonObject json, string key) => Object(Required(json, key), key);

    // ---- whole documents -------------------------------------------------------------------------------------------

    /// <summary>Parses text that must hold one JSON object; invalid JSON or another kind of value fails naming the document.</summary>
    public JsonObject ParseObject(string text)
    {
        try
        {
            return AsObject(JsonNode.Parse(text));
        }
        catch (JsonException e)
        {
            throw NotJson(e);
        }
    }

    /// <summary>Parses UTF-8 bytes that must hold one JSON object (see the string overload).</summary>
    public JsonObject ParseObject(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return AsObject(JsonNode.Parse(utf8));
        }
        catch (JsonException e)
        {
            throw NotJson(e);
        }
    }

    /// <summary>Reads and parses a file that must hold one JSON object.</summary>
    public JsonObject ReadObject(string path) => ParseObject(File.ReadAllBytes(path));

    private JsonObject AsObject(JsonNode? node) => node as JsonObject ?? throw Fail($"{Document} is not a JSON object");

    private Exception NotJson(JsonException e) => Fail($"{Document} is not valid JSON: {e.Message}");

    private string Document => _where ?? "the JSON";

    // ---- keys -----------------------------------------------------------------------------------------------------

    /// <summary>Throws for the first key of <paramref name="json"/> not in <paramref name="known"/>, so a typo is not silently ignored.</summary>
    public void RejectUnknown(JsonObject json, string what, IReadOnlyCollection<string> known)
    {
        foreach (var (key, _) in json)
            if (!known.Contains(key)) throw Unknown(key, what, known);
    }

    /// <summary>The error for an unknown key: the closest known key if it is a likely typo, else every known key.</summary>
    public Exception Unknown(string key, string what, IReadOnlyCollection<string> known)
    {
        var closest = known.MinBy(k => EditDistance(k, key));
        var hint = closest != null && EditDistance(closest, key) <= Math.Clamp(key.Length / 3, 1, 3)
            ? $"did you mean {closest}?"
            : $"known: {string.Join(", ", known)}";
        return Fail($"{Prefix}unknown {what} \"{_path}{key}\" ({hint})");
    }

    // ---- messages -------------------------------------------------------------------------------------------------

    private string Prefix => _where is null ? "" : _where + ": ";

    private Exception Fail(string message) =>
        _fileContent ? new BulletFormatException(message) : new BulletArgumentException(message);

    private Exception WrongKind(JsonNode? value, string name, string expected) =>
        Fail($"{Prefix}{_path}{name} must be {expected}, not {Shown(value)}");

    private JsonNode Required(JsonObject json, string key) =>
        json[key] ?? throw Fail(_where is null ? $"{_path}{key} is required" : $"{_where} has no \"{_path}{key}\"");

    /// <summary>The value as JSON, cut short: a whole text passed in the wrong field should not fill the message.</summary>
    private static string Shown(JsonNode? value)
    {
        var text = value?.ToJsonString() ?? "null";
        return text.Length <= ShownChars ? text : text[..(ShownChars - 3)] + "...";
    }

    private long Whole(JsonNode? value, string name, long min, long max)
    {
        if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.Number) throw WrongKind(value, name, "an integer");
        if (!v.TryGetValue<long>(out var whole))
        {
            // In-code values of other number types, and whole numbers written as 3.0 or 1e3.
            var text = v.ToJsonString();
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out whole))
            {
                var number = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (number != Math.Floor(number)) throw WrongKind(value, name, "an integer");
                whole = Math.Abs(number) < TwoTo63 ? (long)number : throw OutOfRange(value, name, min, max);
            }
        }
        return whole >= min && whole <= max ? whole : throw OutOfRange(value, name, min, max);
    }

    private Exception OutOfRange(JsonNode value, string name, long min, long max) =>
        Fail($"{Prefix}{_path}{name} must be an integer from {min} to {max}, not {Shown(value)}");

    private static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }
        return row[b.Length];
    }
}
