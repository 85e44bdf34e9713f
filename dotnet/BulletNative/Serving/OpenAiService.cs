using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Runtime;

namespace BulletNative.Serving;

/// <summary>
/// The OpenAI-compatible API over a set of .bullet models, as one function from (method, path, Authorization, body)
/// to a response, so any web server (the stdlib one of <c>python -m bullet_native serve</c>, the dashboard's FastAPI)
/// only moves bytes. Models are named by file stem: listed files, and every .bullet in a folder (read at each request,
/// so new files appear). A model is loaded at its first request, with its own <see cref="BatchScheduler"/>; it is
/// reloaded when its file changes, and idle models beyond <c>keep_loaded</c> are closed.
/// </summary>
/// <remarks>
/// Config JSON: models ({name: path}), models_dir, api_key (requests must send "Authorization: Bearer KEY"), threads,
/// cache_mb (KV cache limit per model), tokens_per_step, keep_loaded.
/// </remarks>
public sealed class OpenAiService : IDisposable
{
    private sealed record Loaded(string Path, DateTime Modified, long Size, BatchScheduler Scheduler)
    {
        /// <summary>A use-counter stamp (not a time): beyond the limit, idle models with the lowest stamps are unloaded first.</summary>
        public long LastUsed { get; set; }
    }

    private static readonly string[] s_keys = ["models", "models_dir", "api_key", "threads", "cache_mb", "tokens_per_step", "keep_loaded"];
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);
    private readonly string? _folder;
    private readonly byte[]? _apiKey;
    private readonly SchedulerOptions _scheduling;
    private readonly int _keepLoaded;
    private readonly Dictionary<string, Loaded> _loaded = new(StringComparer.Ordinal);
    // Schedulers of replaced files that still run generations: disposed once idle, so a reload cuts no stream short.
    private readonly List<BatchScheduler> _retired = [];
    private readonly object _lock = new();
    private long _uses;
    private bool _disposed;

    /// <summary>A service from its config (see the remarks); files must exist, the folder is read at each request.</summary>
    public OpenAiService(JsonObject config)
    {
        var read = JsonFields.Options;
        read.RejectUnknown(config, "serving option", s_keys);
        if (config["models"] is { } models)
            foreach (var (name, path) in read.Object(models, "models"))
            {
                var file = read.String(path, $"models.{name}");
                if (!File.Exists(file)) throw new BulletArgumentException($"model file {file} does not exist");
                _files[name] = Path.GetFullPath(file);
            }
        _folder = read.OptionalString(config, "models_dir");
        if (_folder != null && !Directory.Exists(_folder)) throw new BulletArgumentException($"models_dir {_folder} is not a folder");
        if (_files.Count == 0 && _folder == null) throw new BulletArgumentException("give models (name → .bullet path) or models_dir");
        var key = read.OptionalString(config, "api_key");
        if (key is "") throw new BulletArgumentException("api_key must not be empty");
        _apiKey = key is null ? null : Encoding.UTF8.GetBytes(key);
        var scheduling = new JsonObject();
        foreach (var option in new[] { "threads", "cache_mb", "tokens_per_step" })
            if (config[option] is { } value) scheduling[option] = value.DeepClone();
        _scheduling = SchedulerOptions.FromJson(scheduling);
        _keepLoaded = read.OptionalInt(config, "keep_loaded") ?? 4;
        if (_keepLoaded < 1) throw new BulletArgumentException($"keep_loaded {_keepLoaded} must be at least 1");
    }

    /// <summary>Answers one request; never throws for anything the client sent (that is a 4xx response).</summary>
    public OpenAiResponse Handle(string method, string path, string? authorization, ReadOnlySpan<byte> body)
    {
        try
        {
            Authorize(authorization);
            var route = path.Split('?', 2)[0].TrimEnd('/');
            return (method.ToUpperInvariant(), route) switch
            {
                ("GET", "/v1/models") => OpenAiResponse.Json(200, ModelList()),
                ("GET", _) when route.StartsWith("/v1/models/", StringComparison.Ordinal) => OpenAiResponse.Json(200, ModelObject(route["/v1/models/".Length..])),
                ("POST", "/v1/completions") => Generate(OpenAiEndpoint.Completions, body),
                ("POST", "/v1/chat/completions") => Generate(OpenAiEndpoint.ChatCompletions, body),
                (_, "/v1/models" or "/v1/completions" or "/v1/chat/completions") =>
                    throw new OpenAiError(405, $"Method {method} is not allowed on {route}.", code: "method_not_allowed"),
                _ => throw new OpenAiError(404, $"Unknown request URL: {method} {route}.", code: "unknown_url"),
            };
        }
        catch (OpenAiError e)
        {
            return OpenAiResponse.Error(e);
        }
        catch (BulletArgumentException e)
        {
            return OpenAiResponse.Error(new OpenAiError(400, e.Message));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return OpenAiResponse.Error(new OpenAiError(500, $"The server failed: {e.Message}", type: "server_error"));
        }
    }

    private void Authorize(string? authorization)
    {
        if (_apiKey is null) return;
        if (string.IsNullOrEmpty(authorization))
            throw new OpenAiError(401, "You didn't provide an API key. Send it as \"Authorization: Bearer KEY\".");
        var given = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : authorization.Trim();
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _apiKey))
            throw new OpenAiError(401, "Incorrect API key provided.", code: "invalid_api_key");
    }

    private OpenAiResponse Generate(OpenAiEndpoint endpoint, ReadOnlySpan<byte> body)
    {
        var request = OpenAiRequest.Parse(endpoint, body);
        var generation = Submit(request.Model, request.Prompt, request.Options);
        return new GenerationResponse(request, generation, request.Model);
    }

    /// <summary>Every model name with its file, sorted.</summary>
    private SortedDictionary<string, string> Models()
    {
        var models = new SortedDictionary<string, string>(_files, StringComparer.Ordinal);
        if (_folder != null && Directory.Exists(_folder))
            foreach (var file in Directory.EnumerateFiles(_folder, "*.bullet"))
                models.TryAdd(Path.GetFileNameWithoutExtension(file), Path.GetFullPath(file));
        return models;
    }

    private JsonObject ModelList() => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray(Models().Select(m => (JsonNode)Describe(m.Key, m.Value)).ToArray()),
    };

    private JsonObject ModelObject(string name) =>
        Models().TryGetValue(name, out var file) ? Describe(name, file) : throw OpenAiError.UnknownModel(name);

    private static JsonObject Describe(string name, string file) => new()
    {
        ["id"] = name,
        ["object"] = "model",
        ["created"] = new DateTimeOffset(File.GetLastWriteTimeUtc(file)).ToUnixTimeSeconds(),
        ["owned_by"] = "bullet",
    };

    /// <summary>
    /// Queues a generation on a model's scheduler, loading (or reloading a changed file) as needed. The submit happens
    /// under the service's lock, so no other request can unload that scheduler between choosing it and submitting.
    /// </summary>
    private GenerationRequest Submit(string name, string prompt, GenerationOptions options)
    {
        if (!Models().TryGetValue(name, out var file)) throw OpenAiError.UnknownModel(name);
        var info = new FileInfo(file);
        var closing = new List<BatchScheduler>();
        try
        {
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_loaded.TryGetValue(name, out var loaded) && (loaded.Path != file || loaded.Modified != info.LastWriteTimeUtc || loaded.Size != info.Length))
                {
                    _retired.Add(loaded.Scheduler);
                    _loaded.Remove(name);
                    loaded = null;
                }
                if (loaded is null)
                {
                    BulletModel model;
                    try
                    {
                        model = BulletModel.Load(file);
                    }
                    catch (Exception e) when (e is BulletException or IOException)
                    {
                        throw new OpenAiError(500, $"The model `{name}` could not be loaded: {e.Message}", type: "server_error");
                    }
                    loaded = new Loaded(file, info.LastWriteTimeUtc, info.Length, new BatchScheduler(model, _scheduling));
                    _loaded[name] = loaded;
                }
                loaded.LastUsed = ++_uses;
                // Idle models beyond the limit, least recently used first.
                foreach (var (other, entry) in _loaded.Where(e => e.Key != name).OrderBy(e => e.Value.LastUsed).ToList())
                {
                    if (_loaded.Count <= _keepLoaded) break;
                    if (entry.Scheduler.Load != (0, 0)) continue;
                    closing.Add(entry.Scheduler);
                    _loaded.Remove(other);
                }
                closing.AddRange(_retired.Where(r => r.Load == (0, 0)));
                _retired.RemoveAll(closing.Contains);
                var scheduler = loaded.Scheduler;
                return scheduler.Submit(scheduler.Model.Tokenizer.Encode(prompt), options);
            }
        }
        finally
        {
            foreach (var scheduler in closing) scheduler.Dispose();
        }
    }

    /// <summary>Stops every model's scheduler (generations still running end).</summary>
    public void Dispose()
    {
        List<Loaded> loaded;
        List<BatchScheduler> retired;
        lock (_lock)
        {
            _disposed = true;
            loaded = [.. _loaded.Values];
            _loaded.Clear();
            retired = [.. _retired];
            _retired.Clear();
        }
        foreach (var entry in loaded) entry.Scheduler.Dispose();
        foreach (var scheduler in retired) scheduler.Dispose();
    }
}
