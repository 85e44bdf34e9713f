using System.Text.Json.Nodes;
using BulletNative.Training;

namespace BulletNative.Tests;

/// <summary>Config validation that reports every failing field, each with the message session creation gives.</summary>
public class ConfigCheckTests
{
    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    [Test]
    public void AValidConfigResolvesToTheFullConfig()
    {
        var result = ConfigCheck.Check(Parse("""{"preset": "tiny", "total_steps": 10}"""));
        Assert.That(result["valid"]!.GetValue<bool>(), Is.True);
        Assert.That(result["errors"]!.AsArray(), Is.Empty);
        Assert.That(result["config"]!["total_steps"]!.GetValue<int>(), Is.EqualTo(10));
        Assert.That(result["config"]!.ToJsonString(), Does.Contain("\"learning_rate\""));
    }

    [Test]
    public void EveryFailingFieldIsReportedWithTheSessionMessage()
    {
        var config = Parse("""{"preset": "tiny", "hidden_size": 100, "num_heads": 3, "learning_rate": "fast", "totl_steps": 5}""");
        var result = ConfigCheck.Check(config);
        Assert.That(result["valid"]!.GetValue<bool>(), Is.False);
        var errors = result["errors"]!.AsArray().ToDictionary(e => e!["field"]!.GetValue<string>(), e => e!["message"]!.GetValue<string>());
        Assert.That(errors.Keys, Is.EquivalentTo(new[] { "hidden_size", "num_heads", "learning_rate", "totl_steps" }));
        Assert.That(errors["totl_steps"], Does.Contain("did you mean total_steps"));
        // Creating a session from this config reports the same messages, all at once.
        var refused = Assert.Throws<BulletArgumentException>(() => TrainConfig.ReadValid(config));
        Assert.That(refused!.Message, Is.EqualTo(string.Join("; ", result["errors"]!.AsArray().Select(e => e!["message"]!.GetValue<string>()))));
        Assert.That(config.Count, Is.EqualTo(5), "the caller's config is not modified");
    }

    [Test]
    public void AnUnknownPresetNamesThePresetField()
    {
        var result = ConfigCheck.Check(Parse("""{"preset": "huge"}"""));
        Assert.That(result["errors"]![0]!["field"]!.GetValue<string>(), Is.EqualTo("preset"));
        Assert.That(result["errors"]![0]!["message"]!.GetValue<string>(), Does.Contain("tiny"));
    }
}
