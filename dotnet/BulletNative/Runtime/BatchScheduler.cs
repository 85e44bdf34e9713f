using System.Runtime.InteropServices;

namespace BulletNative.Runtime;

/// <summary>How a <see cref="BatchScheduler"/> shares its thread among generations.</summary>
/// <param name="Threads">threads per matrix product of a step.</param>
/// <param name="CacheBytes">the most bytes the generations' KV caches may hold together; a request waits until its cache
/// fits (one that alone is larger runs when nothing else does).</param>
/// <param name="TokensPerStep">rows per step: every running generation's next token first, then prompt chunks in
/// arrival order.</param>
/// <param name="MaxSequences">the most generations that run at once.</param>
public sealed record SchedulerOptions(int Threads = 1, long CacheBytes = 512L << 20, int TokensPerStep = 128, int MaxSequences = 64)
{
    private static readonly string[] s_keys = ["threads", "cache_mb", "tokens_per_step", "max_sequences"];

    /// <summary>Reads options from JSON (threads, cache_mb, tokens_per_step, max_sequences; missing keys keep their defaults).</summary>
    public static SchedulerOptions FromJson(System.Text.Json.Nodes.JsonObject json)
    {
        var read = Format.JsonFields.Options;
        read.RejectUnknown(json, "batching option", s_keys);
        var defaults = new SchedulerOptions();
        var tokensPerStep = read.OptionalInt(json, "tokens_per_step") ?? defaults.TokensPerStep;
        return new SchedulerOptions(
            read.OptionalInt(json, "threads") ?? defaults.Threads,
            read.OptionalLong(json, "cache_mb") is { } mb ? mb << 20 : defaults.CacheBytes,
            tokensPerStep,
            read.OptionalInt(json, "max_sequences") ?? Math.Min(defaults.MaxSequences, tokensPerStep)).Validate();
    }

    /// <summary>Throws a BulletArgumentException naming the first invalid setting.</summary>
    public SchedulerOptions Validate()
    {
        if (Threads < 1 || Threads > 256) throw new BulletArgumentException($"threads {Threads} must be between 1 and 256");
        if (CacheBytes < 1 << 20) throw new BulletArgumentException($"the KV cache limit of {CacheBytes} bytes must be at least 1 MiB");
        if (TokensPerStep < 1 || TokensPerStep > 4096) throw new BulletArgumentException($"tokens per step {TokensPerStep} must be between 1 and 4096");
        if (MaxSequences < 1 || MaxSequences > TokensPerStep)
            throw new BulletArgumentException($"max sequences {MaxSequences} must be between 1 and tokens per step ({TokensPerStep})");
        return this;
    }
}

/// <summary>
/// Continuous batching over one model: one thread advances every running generation by a token per step, passing
/// all their rows through <see cref="BatchForward"/> together, so each weight block is read once per step for all
/// of them. A new request joins at the next step, a finished or cancelled one leaves at once; prompts go in chunks
/// within the step's row budget. Each generation's tokens are those it would draw alone (rows do not interact).
/// </summary>
public sealed class BatchScheduler : IDisposable
{
    private readonly BatchForward _pass;
    private readonly SchedulerOptions _options;
    private readonly Thread _thread;
    private readonly object _lock = new();
    private readonly Queue<GenerationRequest> _waiting = new();
    private readonly List<GenerationRequest> _running = [];
    private readonly List<GenerationRequest> _stepped = [];
    private readonly List<int> _rowsOf = [];
    private readonly List<(GenerationRequest Request, GeneratedToken Step)> _finals = [];
    private ForwardRow[] _rows = [];
    private float[] _logits = [];
    private long _reserved;
    private bool _disposed;

    /// <summary>The model every queued generation runs on.</summary>
    public BulletModel Model { get; }

    /// <summary>A scheduler with its own thread (started now, idle until a request comes).</summary>
    public BatchScheduler(BulletModel model, SchedulerOptions? options = null)
    {
        _options = (options ?? new SchedulerOptions()).Validate();
        Model = model;
        _pass = new BatchForward(model, _options.Threads);
        _thread = new Thread(Loop) { IsBackground = true, Name = "bullet-batch" };
        _thread.Start();
    }

    /// <summary>Queues a generation; its steps arrive through the returned request.</summary>
    public GenerationRequest Submit(IReadOnlyList<int> prompt, GenerationOptions options)
    {
        var request = new GenerationRequest(new Sequence(Model, prompt, options), this);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            request.Sequence.Resume();
            _waiting.Enqueue(request);
            Monitor.Pulse(_lock);
        }
        return request;
    }

    /// <summary>Generations running now and waiting to start.</summary>
    public (int Running, int Waiting) Load
    {
        get { lock (_lock) return (_running.Count, _waiting.Count); }
    }

    internal void Wake()
    {
        lock (_lock) Monitor.Pulse(_lock);
    }

    private void Loop()
    {
        while (true)
        {
            lock (_lock)
            {
                while (!_disposed && _running.Count == 0 && _waiting.Count == 0) Monitor.Wait(_lock);
                if (_disposed) break;
                Admit();
            }
            try
            {
                Step();
            }
            catch (Exception e)
            {
                // The thread serves every generation on the model (and lives in the dashboard's process): a fault in
                // one step ends the generations in it with "error" instead of ending the process.
                EndRunning(e.Message);
            }
        }
        lock (_lock)
        {
            foreach (var request in _running.Concat(_waiting)) request.Deliver(request.Sequence.Cancel());
            _running.Clear();
            _waiting.Clear();
        }
    }

    /// <summary>Moves waiting requests in while their caches fit (under the lock).</summary>
    private void Admit()
    {
        while (_waiting.Count > 0 && _running.Count < _options.MaxSequences)
        {
            var next = _waiting.Peek();
            var bytes = next.Sequence.CacheBytes;
            if (_running.Count > 0 && _reserved + bytes > _options.CacheBytes) break;
            _waiting.Dequeue();
            _reserved += bytes;
            _running.Add(next);
        }
    }

    /// <summary>One step: gathers rows (decoding generations first, then prompt chunks), runs them, draws tokens.</summary>
    private void Step()
    {
        _stepped.Clear();
        _rowsOf.Clear();
        // Cancellation and context fitting are settled before any rows are gathered: a Cancel arriving from another
        // thread while rows are gathered must not clear the pending tokens of a generation already in this step.
        foreach (var request in _running)
        {
            var sequence = request.Sequence;
            if (request.Cancelled && !sequence.Done) Hand(request, sequence.Cancel());
            else if (sequence.Prepare() is { } end) Hand(request, end);
        }
        var budget = _options.TokensPerStep;
        var rows = 0;
        var asked = 0;
        // Generations with one pending token (decoding) go first, then prompts in arrival order.
        for (var pass = 0; pass < 2; pass++)
            foreach (var request in _running)
            {
                var sequence = request.Sequence;
                var pending = sequence.Pending.Length;
                if (sequence.Done || pending == 0 || (pass == 0) != (pending == 1) || budget - rows == 0) continue;
                var count = Math.Min(pending, budget - rows);
                EnsureRows(rows + count);
                for (var i = 0; i < count; i++)
                    _rows[rows + i] = new ForwardRow(sequence.Cache, sequence.Pending[i], count == pending && i == count - 1);
                if (count == pending) asked++;
                rows += count;
                _stepped.Add(request);
                _rowsOf.Add(count);
            }
        if (rows > 0)
        {
            var vocab = Model.Dimensions.VocabSize;
            if (_logits.Length < asked * vocab) _logits = new float[asked * vocab];
            _pass.Run(_rows.AsSpan(0, rows), _logits.AsSpan(0, asked * vocab));
            var j = 0;
            for (var s = 0; s < _stepped.Count; s++)
            {
                var sequence = _stepped[s].Sequence;
                var complete = _rowsOf[s] == sequence.Pending.Length;
                sequence.Consumed(_rowsOf[s]);
                if (complete) Hand(_stepped[s], sequence.Accept(_logits.AsSpan(j++ * vocab, vocab)));
            }
        }
        lock (_lock)
        {
            for (var i = _running.Count - 1; i >= 0; i--)
                if (_running[i].Sequence.Done)
                {
                    _reserved -= _running[i].Sequence.CacheBytes;
                    _running.RemoveAt(i);
                }
        }
        // Final steps go out once their generations have left, so a consumer that has its last step sees them gone.
        foreach (var (request, step) in _finals) request.Deliver(step);
        _finals.Clear();
    }

    /// <summary>Hands a step to its consumer now, or after this step's bookkeeping when it is the final one.</summary>
    private void Hand(GenerationRequest request, GeneratedToken step)
    {
        if (step.Done) _finals.Add((request, step));
        else request.Deliver(step);
    }

    /// <summary>Ends every running generation with "error" and frees their caches.</summary>
    private void EndRunning(string message)
    {
        lock (_lock)
        {
            foreach (var request in _running)
                if (!request.Sequence.Done) request.Deliver(request.Sequence.Fail(message));
            foreach (var (request, step) in _finals) request.Deliver(step);
            _finals.Clear();
            _running.Clear();
            _reserved = 0;
        }
    }

    private void EnsureRows(int rows)
    {
        if (_rows.Length < rows) Array.Resize(ref _rows, Math.Max(rows, 2 * _rows.Length));
    }

    /// <summary>Stops the thread; generations still running end with "cancelled".</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.Pulse(_lock);
        }
        _thread.Join();
    }
}

/// <summary>
/// One generation queued on a <see cref="BatchScheduler"/>, as its consumer sees it: the steps in order
/// (<see cref="Take"/>), and the <see cref="Sequence"/> to read the summary from once the final step arrived.
/// Disposing it cancels the generation if it still runs.
/// </summary>
public sealed class GenerationRequest : IDisposable
{
    private readonly Queue<GeneratedToken> _steps = new();
    private readonly BatchScheduler _scheduler;
    private volatile bool _cancelled;

    /// <summary>The generation's state: tokens so far, options and, once done, its stop reason.</summary>
    public Sequence Sequence { get; }
    internal bool Cancelled => _cancelled;

    internal GenerationRequest(Sequence sequence, BatchScheduler scheduler)
    {
        Sequence = sequence;
        _scheduler = scheduler;
    }

    internal void Deliver(GeneratedToken step)
    {
        lock (_steps)
        {
            _steps.Enqueue(step);
            Monitor.Pulse(_steps);
        }
    }

    /// <summary>The next step, waiting up to <paramref name="timeout"/>; null when none came in time.</summary>
    public GeneratedToken? Take(TimeSpan timeout)
    {
        lock (_steps)
        {
            if (_steps.Count == 0) Monitor.Wait(_steps, timeout);
            return _steps.Count > 0 ? _steps.Dequeue() : null;
        }
    }

    /// <summary>Asks the scheduler to end this generation at its next step (the final step still arrives).</summary>
    public void Cancel()
    {
        _cancelled = true;
        _scheduler.Wake();
    }

    /// <summary>True once the final step has been taken.</summary>
    public bool Finished { get; private set; }

    /// <summary>The next step, as <see cref="Take"/>, remembering when the final one was taken.</summary>
    public GeneratedToken? TakeStep(TimeSpan timeout)
    {
        var step = Take(timeout);
        if (step?.Done == true) Finished = true;
        return step;
    }

    /// <summary>Cancels the generation unless its final step was taken already.</summary>
    public void Dispose()
    {
        if (!Finished) Cancel();
    }
}
