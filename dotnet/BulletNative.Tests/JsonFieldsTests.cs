using System.Text.Json.Nodes;
using BulletNative.Format;

namespace BulletNative.Tests;

/// <summary>Typed JSON reads: what each accepts, and the message and exception type of what it refuses.</summary>
public class JsonFieldsTests
{
    private static JsonNode? Value(string json) => JsonNode.Parse(json);
    private static JsonObject Object(string json) => JsonNode.Parse(json)!.AsObject();
    private static readonly JsonFields Options = JsonFields.Options;

    [TestCase("3", 3)]
    [TestCase("-7", -7)]
    [TestCase("3.0", 3)]
    [TestCase("1e3", 1000)]
    [TestCase("2147483647", int.MaxValue)]
    public void IntAcceptsWholeNumbers(string json, int expected) =>
        Assert.That(Options.Int(Value(json), "top_k"), Is.EqualTo(expected));

    [TestCase("3.5", "top_k must be an integer, not 3.5")]
    [TestCase("\"3\"", "top_k must be an integer, not \"3\"")]
    [TestCase("true", "top_k must be an integer, not true")]
    [TestCase("[3]", "top_k must be an integer, not [3]")]
    [TestCase("null", "top_k must be an integer, not null")]
    [TestCase("2147483648", "top_k must be an integer from -2147483648 to 2147483647, not 2147483648")]
    [TestCase("-1e10", "top_k must be an integer from -2147483648 to 2147483647, not -1e10")]
    public void IntRefusesOtherValuesNamingTheKeyAndTheValue(string json, string message) =>
        Assert.That(() => Options.Int(Value(json), "top_k"), Throws.TypeOf<BulletArgumentException>().With.Message.EqualTo(message));

    [Test]
    public void LongIsReadExactlyBeyondWhatADoubleHolds()
    {
        Assert.That(Options.Long(Value("9007199254740993"), "seed"), Is.EqualTo(9007199254740993L));
        Assert.That(Options.Long(Value("-9223372036854775808"), "seed"), Is.EqualTo(long.MinValue));
        Assert.That(Options.Long(Value("4e9"), "seed"), Is.EqualTo(4_000_000_000L));
        Assert.That(() => Options.Long(Value("9223372036854775808"), "seed"),
            Throws.TypeOf<BulletArgumentException>().With.Message.Contains("seed must be an integer from"));
        Assert.That(() => Options.Long(Value("1e30"), "seed"),
            Throws.TypeOf<BulletArgumentException>().With.Message.Contains("seed must be an integer from"));
    }

    [Test]
    public void ValuesBuiltInCodeReadLikeParsedOnes()
    {
        Assert.That(Options.Int(JsonValue.Create(4.0), "n"), Is.EqualTo(4));
        Assert.That(Options.Long(JsonValue.Create(5), "n"), Is.EqualTo(5L));
        Assert.That(Options.Number(JsonValue.Create(6), "n"), Is.EqualTo(6.0));
        Assert.That(Options.Number(JsonValue.Create(0.1f), "n"), Is.EqualTo(0.1).Within(1e-7));
        Assert.That(() => Options.Int(JsonValue.Create(4.5), "n"), Throws.TypeOf<BulletArgumentException>());
        Assert.That(() => Options.Int(JsonValue.Create("4"), "n"), Throws.TypeOf<BulletArgumentException>());
    }

    [TestCase("0.25", 0.25)]
    [TestCase("-3", -3.0)]
    [TestCase("1e-8", 1e-8)]
    public void NumberAcceptsNumbers(string json, double expected) =>
        Assert.That(Options.Number(Value(json), "learning_rate"), Is.EqualTo(expected));

    [TestCase("\"fast\"", "learning_rate must be a number, not \"fast\"")]
    [TestCase("null", "learning_rate must be a number, not null")]
    [TestCase("1e400", "learning_rate must be a number, not 1e400")]
    [TestCase("{}", "learning_rate must be a number, not {}")]
    public void NumberRefusesOtherValues(string json, string message) =>
        Assert.That(() => Options.Number(Value(json), "learning_rate"), Throws.TypeOf<BulletArgumentException>().With.Message.EqualTo(message));

    [Test]
    public void BoolIsOnlyTrueOrFalse()
    {
        Assert.That(Options.Bool(Value("true"), "qat"), Is.True);
        Assert.That(Options.Bool(Value("false"), "qat"), Is.False);
        foreach (var json in new[] { "1", "\"true\"", "null" })
            Assert.That(() => Options.Bool(Value(json), "qat"),
                Throws.TypeOf<BulletArgumentException>().With.Message.EqualTo($"qat must be true or false, not {json}"));
    }

    [Test]
    public void StringIsOnlyAString()
    {
        Assert.That(Options.String(Value("\"bpe\""), "mode"), Is.EqualTo("bpe"));
        Assert.That(Options.String(Value("\"\""), "mode"), Is.Empty);
        foreach (var json in new[] { "5", "null", "[\"bpe\"]" })
            Assert.That(() => Options.String(Value(json), "mode"),
                Throws.TypeOf<BulletArgumentException>().With.Message.EqualTo($"mode must be a string, not {json}"));
    }

    [Test]
    public void ALongWrongValueIsCutShortInTheMessage()
    {
        var text = new JsonArray(Enumerable.Range(0, 1000).Select(i => (JsonNode)i).ToArray());
        var e = Assert.Throws<BulletArgumentException>(() => Options.String(text, "text"));
        Assert.That(e!.Message, Does.StartWith("text must be a string, not [0,1,2,"));
        Assert.That(e.Message, Does.EndWith("...").And.Length.LessThan(120));
    }

    [Test]
    public void ListItemsAreNamedByIndex()
    {
        Assert.That(Options.List(Value("[1, 2, 3]"), "check_prompt", Options.Int), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(Options.List(Value("[]"), "stop", Options.String), Is.Empty);
        Assert.That(() => Options.List(Value("[\"a\", 2]"), "stop", Options.String),
            Throws.TypeOf<BulletArgumentException>().With.Message.EqualTo("stop[1] must be a string, not 2"));
        Assert.That(() => Options.List(Value("\"a\""), "stop", Options.String),
            Throws.TypeOf<BulletArgumentException>().With.Message.EqualTo("stop must be a list, not \"a\""));
    }

    [Test]
    public void OptionalFieldsTreatAbsentAndNullAlike()
    {
        var json = Object("""{"a": null, "n": 2, "x": 0.5, "b": true, "s": "t"}""");
        Assert.That(Options.OptionalInt(json, "a"), Is.Null);
        Assert.That(Options.OptionalInt(json, "missing"), Is.Null);
        Assert.That(Options.OptionalInt(json, "n"), Is.EqualTo(2));
        Assert.That(Options.OptionalLong(json, "n"), Is.EqualTo(2L));
        Assert.That(Options.OptionalNumber(json, "x"), Is.EqualTo(0.5));
        Assert.That(Options.OptionalBool(json, "b"), Is.True);
        Assert.That(Options.OptionalString(json, "s"), Is.EqualTo("t"));
        Assert.That(Options.OptionalString(json, "a"), Is.Null);
        Assert.That(() => Options.OptionalString(json, "n"),
            Throws.TypeOf<BulletArgumentException>().With.Message.EqualTo("n must be a string, not 2"));
    }

    [Test]
    public void RequiredFieldsSayWhatHoldsThemAndTheirPath()
    {
        var header = JsonFields.OfFile("the header");
        var root = Object("""{"dimensions": {"hidden_size": "64", "num_layers": null}, "name": 3}""");
        var dims = header.RequiredObject(root, "dimensions");
        var inDims = header.Nested("dimensions");
        Assert.That(() => inDims.RequiredInt(dims, "hidden_size"),
            Throws.TypeOf<BulletFormatException>().With.Message.EqualTo("the header: dimensions.hidden_size must be an integer, not \"64\""));
        Assert.That(() => inDims.RequiredInt(dims, "num_layers"),
            Throws.TypeOf<BulletFormatException>().With.Message.EqualTo("the header has no \"dimensions.num_layers\""));
        Assert.That(() => inDims.RequiredInt(dims, "num_heads"),
            Throws.TypeOf<BulletFormatException>().With.Message.EqualTo("the header has no \"dimensions.num_heads\""));
        Assert.That(() => header.RequiredString(root, "name"),
            Throws.TypeOf<BulletFormatException>().With.Message.EqualTo("the header: name must be a string, not 3"));
        Assert.That(() => header.RequiredObject(root, "name"),
            Throws.TypeOf<BulletFormatException>().With.Message.EqualTo("the header: name must be an object, not 3"));
        Assert.That(JsonFields.OfFile("state.json").RequiredLong(Object("""{"step": 12}"""), "step"), Is.EqualTo(12L));
        Assert.That(() => JsonFields.OfFile("state.json").RequiredLong(root, "step"),
            Throws.TypeOf<BulletFormatException>().With.Message.EqualTo("state.json has no \"step\""));
        Assert.That(() => JsonFields.Of("config.json").RequiredInt(root, "max_context"),
            Throws.TypeOf<BulletArgumentException>().With.Message.EqualTo("config.json has no \"max_context\""));
        Assert.That(() => Options.RequiredString(root, "text"),
            Throws.TypeOf<BulletArgumentException>().With.Message.EqualTo("text is required"));
    }

    [Test]
    public void UnknownKeysSuggestTheClosestOrListTheKnownOnes()
    {
        string[] known = ["vocab_size", "mode", "seed"];
        Assert.That(() => Options.RejectUnknown(Object("""{"mode": "bpe", "vocab_sise": 64}"""), "tokenizer option", known),
            Throws.TypeOf<BulletArgumentException>().With.Message.EqualTo("unknown tokenizer option \"vocab_sise\" (did you mean vocab_size?)"));
        // "text" is three edits from "seed": too far for a four-letter key to be a typo of it.
        Assert.That(() => Options.RejectUnknown(Object("""{"text": "hi"}"""), "tokenizer option", known),
            Throws.TypeOf<BulletArgumentException>().With.Message.EqualTo("unknown tokenizer option \"text\" (known: vocab_size, mode, seed)"));
        Assert.That(() => Options.RejectUnknown(Object("""{"mode": "bpe", "seed": 1}"""), "tokenizer option", known), Throws.Nothing);
        Assert.That(JsonFields.OfFile("x.json").Unknown("sed", "key", known), Is.TypeOf<BulletFormatException>()
            .With.Message.EqualTo("x.json: unknown key \"sed\" (did you mean seed?)"));
    }
}
