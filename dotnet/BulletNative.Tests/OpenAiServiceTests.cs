using System.Text;
using System.Text.Json.Nodes;
using BulletNative.Builder;
using BulletNative.Format;
using BulletNative.Serving;

namespace BulletNative.Tests;

/// <summary>The OpenAI-compatible API as a function of (method, path, Authorization, body): routes, errors, shapes.</summary>
public class OpenAiServiceTests
{
    private static string s_folder = "";
    private static OpenAiService s_service = null!;

    [OneTimeSetUp]
    public void WriteModel()
    {
        s_folder = TestPaths.NewScratch();
        var content = TestModels.Tiny(seed: 3, vocab: 60, hidden: 64, layers: 2, heads: 4);
        File.WriteAllBytes(Path.Combine(s_folder, "tiny.bullet"), BulletWriter.ToBytes(content));
        s_service = new OpenAiService(new JsonObject { ["models_dir"] = s_folder, ["api_key"] = "sesame" });
    }

    [OneTimeTearDown]
    public void Close() => s_service.Dispose();

    private static (int Status, string Body) Call(string method, string path, string? body = null, string? key = "Bearer sesame")
    {
        using var response = s_service.Handle(method, path, key, Encoding.UTF8.GetBytes(body ?? ""));
        var all = new MemoryStream();
        for (var piece = response.Read(TimeSpan.FromSeconds(30)); piece.Length > 0; piece = response.Read(TimeSpan.FromSeconds(30))) all.Write(piece);
        return (response.Status, Encoding.UTF8.GetString(all.ToArray()));
    }

    private static JsonObject Json(string body) => (JsonObject)JsonNode.Parse(body)!;

    [Test]
    public void ChatMessagesFollowTheDialogueDatasetsTurns()
    {
        var prompt = ChatTemplate.Prompt([
            new ChatMessage("system", "You are brief."), new ChatMessage("user", "Hello!"),
            new ChatMessage("assistant", "Hi! How can I help?"), new ChatMessage("user", "What is 7 plus 5?\nQuick."),
        ]);
        Assert.That(prompt, Is.EqualTo("You are brief.\n\nUser: Hello!\nBot: Hi! How can I help?\nUser: What is 7 plus 5? Quick.\nBot:"));
        Assert.That(ChatTemplate.Prompt([new ChatMessage("user", "Hi")]), Is.EqualTo("User: Hi\nBot:"));
    }

    [TestCase("""{"model": "tiny", "prompt": "a", "max_tokens": -1}""", "max_tokens")]
    [TestCase("""{"model": "tiny", "prompt": "a", "temperature": 3}""", "temperature")]
    [TestCase("""{"model": "tiny", "prompt": "a", "top_p": 0}""", "top_p")]
    [TestCase("""{"model": "tiny", "prompt": "a", "n": 2}""", "n")]
    [TestCase("""{"model": "tiny", "prompt": "a", "stop": ["a", "b", "c", "d", "e"]}""", "stop")]
    [TestCase("""{"model": "tiny", "prompt": "a", "max_tokens": "many"}""", "max_tokens")]
    [TestCase("""{"model": "tiny", "prompt": "a", "frequency_penalty": 0.5}""", "frequency_penalty")]
    [TestCase("""{"model": "tiny", "prompt": "a", "temprature": 1}""", "temprature")]
    [TestCase("""{"prompt": "a"}""", "model")]
    public void BadParametersAre400sNamingTheParameter(string body, string param)
    {
        var (status, text) = Call("POST", "/v1/completions", body);
        Assert.That(status, Is.EqualTo(400));
        var error = Json(text)["error"]!;
        Assert.That((string?)error["param"], Is.EqualTo(param));
        Assert.That((string?)error["type"], Is.EqualTo("invalid_request_error"));
        Assert.That((string?)error["message"], Is.Not.Empty);
    }

    [Test]
    public void ChatRefusesUnknownRolesAndEmptyConversations()
    {
        Assert.That(Call("POST", "/v1/chat/completions", """{"model": "tiny", "messages": [{"role": "tool", "content": "x"}]}""").Status, Is.EqualTo(400));
        Assert.That(Call("POST", "/v1/chat/completions", """{"model": "tiny", "messages": []}""").Status, Is.EqualTo(400));
        Assert.That(Call("POST", "/v1/chat/completions", "not json").Status, Is.EqualTo(400));
    }

    [Test]
    public void UnknownModelsRoutesAndKeysHaveOpenAisStatuses()
    {
        var (status, body) = Call("POST", "/v1/completions", """{"model": "nope", "prompt": "a"}""");
        Assert.That(status, Is.EqualTo(404));
        Assert.That((string?)Json(body)["error"]!["code"], Is.EqualTo("model_not_found"));
        Assert.That(Call("GET", "/v1/models/nope").Status, Is.EqualTo(404));
        Assert.That(Call("GET", "/v1/elsewhere").Status, Is.EqualTo(404));
        Assert.That(Call("GET", "/v1/completions").Status, Is.EqualTo(405));
        Assert.That(Call("GET", "/v1/models", key: null).Status, Is.EqualTo(401));
        var (wrong, wrongBody) = Call("GET", "/v1/models", key: "Bearer open");
        Assert.That(wrong, Is.EqualTo(401));
        Assert.That((string?)Json(wrongBody)["error"]!["code"], Is.EqualTo("invalid_api_key"));
        var models = Json(Call("GET", "/v1/models").Body);
        Assert.That(models["data"]!.AsArray().Select(m => (string?)m!["id"]), Is.EqualTo(new[] { "tiny" }));
    }

    [Test]
    public void AStreamedCompletionAddsUpToTheWholeOneWithUsage()
    {
        const string request = """{"model": "tiny", "prompt": "abc", "max_tokens": 12, "temperature": 0%STREAM%}""";
        var whole = Json(Call("POST", "/v1/completions", request.Replace("%STREAM%", "")).Body);
        var (status, events) = Call("POST", "/v1/completions", request.Replace("%STREAM%", """, "stream": true, "stream_options": {"include_usage": true}"""));
        Assert.That(status, Is.EqualTo(200));
        var data = events.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.That(data[^1], Is.EqualTo("[DONE]"));
        var chunks = data.SkipLast(1).Select(Json).ToList();
        var text = string.Concat(chunks.SelectMany(c => c["choices"]!.AsArray()).Select(c => (string?)c!["text"]));
        var choice = whole["choices"]![0]!;
        Assert.That(text, Is.EqualTo((string?)choice["text"]));
        Assert.That((string?)choice["finish_reason"], Is.EqualTo("length"));
        Assert.That((string?)chunks[^2]["choices"]![0]!["finish_reason"], Is.EqualTo("length"));
        var usage = whole["usage"]!;
        Assert.That((int)usage["completion_tokens"]!, Is.EqualTo(12));
        Assert.That((int)usage["prompt_tokens"]!, Is.EqualTo(BulletModelFor().Tokenizer.Encode("abc").Length));
        Assert.That(chunks[^1]["usage"]!.ToJsonString(), Is.EqualTo(usage.ToJsonString()));
    }

    [Test]
    public void ChatLogprobsListTheChosenTokenAndItsCandidates()
    {
        var body = Json(Call("POST", "/v1/chat/completions",
            """{"model": "tiny", "messages": [{"role": "user", "content": "ab"}], "max_tokens": 3, "temperature": 0, "logprobs": true, "top_logprobs": 2}""").Body);
        var content = body["choices"]![0]!["logprobs"]!["content"]!.AsArray();
        Assert.That(content, Has.Count.EqualTo(3));
        foreach (var entry in content)
        {
            var top = entry!["top_logprobs"]!.AsArray();
            Assert.That(top, Has.Count.EqualTo(2));
            // Greedy: the chosen token is the most likely one.
            Assert.That((double)entry["logprob"]!, Is.EqualTo((double)top[0]!["logprob"]!).Within(1e-12));
            Assert.That((double)top[0]!["logprob"]!, Is.GreaterThanOrEqualTo((double)top[1]!["logprob"]!));
        }
    }

    [Test]
    public void AReplacedModelFileLetsTheStreamsOnTheOldOneFinish()
    {
        var folder = TestPaths.NewScratch();
        var file = Path.Combine(folder, "m.bullet");
        File.WriteAllBytes(file, BulletWriter.ToBytes(TestModels.Tiny(seed: 3, vocab: 60, hidden: 64, layers: 2, heads: 4)));
        using var service = new OpenAiService(new JsonObject { ["models_dir"] = folder });
        const int maxTokens = 20_000; // long enough to be running still when the file is replaced
        using var running = service.Handle("POST", "/v1/completions", null, Encoding.UTF8.GetBytes(
            $$$"""{"model": "m", "prompt": "abc", "max_tokens": {{{maxTokens}}}, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}}"""));
        var events = new StringBuilder(Encoding.UTF8.GetString(running.Read(TimeSpan.FromSeconds(30))));

        File.WriteAllBytes(file, BulletWriter.ToBytes(TestModels.Tiny(seed: 4, vocab: 60, hidden: 64, layers: 2, heads: 4)));
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(1));
        using (var reloaded = service.Handle("POST", "/v1/completions", null, """{"model": "m", "prompt": "abc", "max_tokens": 3}"""u8))
            Assert.That(reloaded.Status, Is.EqualTo(200), "the new file is loaded beside the old one");

        for (var piece = running.Read(TimeSpan.FromSeconds(60)); piece.Length > 0; piece = running.Read(TimeSpan.FromSeconds(60)))
            events.Append(Encoding.UTF8.GetString(piece));
        var data = events.ToString().Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.That(data[^1], Is.EqualTo("[DONE]"));
        Assert.That((int)Json(data[^2])["usage"]!["completion_tokens"]!, Is.EqualTo(maxTokens), "the stream was not cut short by the reload");
    }

    private static Runtime.BulletModel BulletModelFor() => Runtime.BulletModel.Load(Path.Combine(s_folder, "tiny.bullet"));
}
