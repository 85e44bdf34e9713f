using System.Text.Json.Nodes;
using BulletNative.Model;

namespace BulletNative.Training;

/// <summary>
/// One training run on its own thread, driven by controls that act between steps (start, pause, resume, stop,
/// step N, speed, threads) and observed through its events (<see cref="Events"/>, on a file when one is given). Every
/// call that touches tensors runs on the session's thread, so callers on other threads only enqueue work and read
/// snapshots; a handle may be controlled and polled from several threads at once. Errors become an "error" event and
/// the failed state; the session stays inspectable. Every event carries the state the session is in after it.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    private readonly object _gate = new();
    private readonly Thread _thread;
    private readonly Queue<Action> _work = new();
    private readonly Func<PreparedRun> _prepare;
    private readonly string? _resumeFrom;
    private StepSchedule _schedule;
    private readonly TrainingClock _clock = new();
    private Trainer? _trainer;
    private SessionState _state = SessionState.Preparing;
    private bool _running, _stopRequested, _disposed, _inStep;
    private long _stepBudget;
    private double _stepsPerSecond;
    private int _threads, _appliedThreads;

    /// <summary>The recipe (once prepared, as resolved for the text: see <see cref="TrainPlan"/>).</summary>
    public TrainConfig Config { get; private set; }

    /// <summary>Folder for checkpoints and exports (null: nowhere on disk unless a path is given).</summary>
    public string? OutputDir { get; }

    /// <summary>The session's events.</summary>
    public EventLog Events { get; }

    /// <summary>
    /// Starts the session thread, which prepares the data (tokenizer training, split) and the model, then waits for a
    /// control. With <paramref name="resumeFrom"/> it continues from that checkpoint folder; with
    /// <paramref name="events"/> its events continue that log (a file another process follows).
    /// </summary>
    public TrainingSession(TrainConfig config, Func<TokenData> prepareData, string? outputDir = null, string? resumeFrom = null,
        EventLog? events = null)
        : this(config, () => new PreparedRun(config, prepareData(), []), outputDir, resumeFrom, events)
    {
    }

    /// <summary>
    /// As above, with a preparation that also resolves the config for the text (<see cref="TrainPlan.ForText"/>):
    /// the session trains the resolved config, and the notes of what was chosen go into the "started" event.
    /// </summary>
    public TrainingSession(TrainConfig config, Func<PreparedRun> prepare, string? outputDir = null, string? resumeFrom = null,
        EventLog? events = null)
    {
        config.Validate();
        Config = config;
        _prepare = prepare;
        OutputDir = outputDir;
        _resumeFrom = resumeFrom;
        _threads = config.Threads;
        Events = events ?? new EventLog();
        _schedule = new StepSchedule(config, outputDir, Emit);
        _thread = new Thread(ThreadMain) { IsBackground = true, Name = "bullet-training" };
        _thread.Start();
    }

    /// <summary>The current state.</summary>
    public SessionState State { get { lock (_gate) return _state; } }

    /// <summary>Starts continuous training (from ready), or continues it (from paused).</summary>
    public void Start() => Control(() =>
    {
        RequireTrainable("start");
        _running = true;
        if (_state is SessionState.Ready or SessionState.Paused)
            SetState(SessionState.Running, _state == SessionState.Paused ? "resumed" : "running", SessionEvents.AtStep(_trainer?.Step ?? 0));
    });

    /// <summary>Stops training after the current step and returns once that step is done; resume or step continue from there.</summary>
    public void Pause() => Control(() =>
    {
        if (_state is not (SessionState.Running or SessionState.Preparing)) return;
        _running = false;
        _stepBudget = 0;
        if (Thread.CurrentThread != _thread)
            while (_inStep) Monitor.Wait(_gate);
        if (_state == SessionState.Running) SetState(SessionState.Paused, "paused", SessionEvents.AtStep(_trainer?.Step ?? 0));
    });

    /// <summary>Continues after a pause.</summary>
    public void Resume() => Start();

    /// <summary>Ends training gracefully after the current step; what was learned stays (export and checkpoints still work).</summary>
    public void Stop() => Control(() =>
    {
        if (!_state.IsFinished()) _stopRequested = true;
    });

    /// <summary>Runs <paramref name="steps"/> more steps, then waits (paused).</summary>
    public void StepN(long steps) => Control(() =>
    {
        if (steps <= 0) throw new BulletArgumentException($"steps {steps} must be at least 1");
        RequireTrainable("step");
        if (_running) throw new BulletStateException("the session is running; pause it before stepping");
        _stepBudget += steps;
    });

    /// <summary>Limits training to <paramref name="stepsPerSecond"/> (0 = full speed).</summary>
    public void SetSpeed(double stepsPerSecond) => Control(() =>
    {
        if (!(stepsPerSecond >= 0 && double.IsFinite(stepsPerSecond)))
            throw new BulletArgumentException($"speed {stepsPerSecond} must be 0 (full speed) or a positive number of steps per second");
        _stepsPerSecond = stepsPerSecond;
    });

    /// <summary>Sets the threads libtorch uses for this session from its next step on (a "compute" event says when it took effect).</summary>
    public void SetThreads(int threads) => Control(() =>
    {
        if (threads is < 1 or > 256) throw new BulletArgumentException($"threads {threads} must be between 1 and 256");
        _threads = threads;
    });

    /// <summary>One optimizer step, run on the session thread while it is not running; returns that step's metrics event.</summary>
    public JsonObject TrainStep()
    {
        lock (_gate)
        {
            RequireTrainable("step");
            if (_running) throw new BulletStateException("the session is running; pause it before stepping");
        }
        return Invoke(() =>
        {
            lock (_gate) RequireTrainable("step");
            RunOneStep();
            return _schedule.LastMetrics!.DeepClone().AsObject();
        });
    }

    /// <summary>A snapshot for the caller: state, step, totals, speed, threads, the last metrics, best validation loss.</summary>
    public JsonObject Status()
    {
        lock (_gate)
        {
            return new JsonObject
            {
                ["state"] = _state.Name(),
                ["step"] = _trainer?.Step ?? 0,
                ["total_steps"] = _trainer?.TotalSteps,
                ["speed"] = _stepsPerSecond,
                ["threads"] = _threads,
                ["last_seq"] = Events.LastSeq,
                ["best_val_loss"] = _trainer is { BestValLoss: var b } && double.IsFinite(b) ? b : null,
                ["best_val_bpc"] = _trainer is { BestValBpc: var bpc } && double.IsFinite(bpc) ? bpc : null,
                ["best_step"] = _trainer?.BestStep,
                ["metrics"] = _schedule.LastMetrics?.DeepClone(),
                ["config"] = Config.ToJson(),
            };
        }
    }

    /// <summary>Saves a checkpoint now (to <paramref name="folder"/>, or the output folder's checkpoints/step-N); returns its path.</summary>
    public string SaveCheckpoint(string? folder = null) => Invoke(trainer =>
    {
        var path = _schedule.SaveCheckpoint(trainer, folder);
        Events.Sync();
        return path;
    });

    /// <summary>
    /// Exports the model (options: "path" of the .bullet, default {output_dir}/model.bullet; "model_name"; "model_card";
    /// "float_dir" for an FP32 safetensors copy; "verify_windows") and returns the verification result.
    /// </summary>
    public JsonObject Export(JsonObject options) => Invoke(trainer =>
    {
        var result = SessionExport.Run(trainer, OutputDir, options);
        Emit("exported", result.DeepClone().AsObject());
        return result;
    });

    /// <summary>Every layer's and head's attention on <paramref name="probe"/> with the current weights (default: the configured probe).</summary>
    public JsonObject Attention(string? probe = null) => Invoke(trainer => StepSchedule.Attention(trainer, probe ?? Config.AttentionProbe));

    /// <summary>Runs <paramref name="body"/> with the trainer on the session thread (between steps) and returns its result.</summary>
    public T Invoke<T>(Func<Trainer, T> body) => Invoke(() => body(RequireTrainer()));

    private T Invoke<T>(Func<T> body)
    {
        if (Thread.CurrentThread == _thread) return body();
        T result = default!;
        Exception? error = null;
        using var done = new ManualResetEventSlim();
        lock (_gate)
        {
            if (_disposed) throw new BulletException(NativeStatus.InvalidHandle, "the session is closed");
            _work.Enqueue(() =>
            {
                try { result = body(); }
                catch (Exception e) { error = e; }
                finally { done.Set(); }
            });
            Monitor.PulseAll(_gate);
        }
        done.Wait();
        if (error != null) throw error is BulletException ? error : new BulletException(NativeStatus.InternalError, error.Message, error);
        return result;
    }

    private void Control(Action change)
    {
        lock (_gate)
        {
            if (_disposed) throw new BulletException(NativeStatus.InvalidHandle, "the session is closed");
            change();
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Appends an event stamped with the state the session is in now.</summary>
    private void Emit(string type, JsonObject fields)
    {
        lock (_gate)
        {
            fields["state"] = _state.Name();
            Events.Add(type, fields);
        }
    }

    /// <summary>Moves to <paramref name="state"/> and records the move as an event of <paramref name="type"/>.</summary>
    private void SetState(SessionState state, string type, JsonObject fields)
    {
        lock (_gate)
        {
            _state = state;
            Emit(type, fields);
        }
    }

    private void RequireTrainable(string action)
    {
        if (_state.IsFinished()) throw new BulletStateException($"cannot {action}: the session has {_state.Name().Replace('_', ' ')}");
    }

    private Trainer RequireTrainer() =>
        _trainer ?? throw new BulletStateException($"the session is not ready yet (state {State.Name()})");

    private void ThreadMain()
    {
        try
        {
            Prepare();
        }
        catch (Exception e)
        {
            Fail(e);
        }
        while (true)
        {
            Action? work = null;
            var stop = false;
            lock (_gate)
            {
                while (!_disposed && _work.Count == 0 && !WantsStep()) Monitor.Wait(_gate);
                if (_disposed && _work.Count == 0) return;
                if (_work.Count > 0) work = _work.Dequeue();
                else if (_stopRequested) stop = true;
                // The step is claimed under the lock that saw it wanted: a Pause in between would not wait for it.
                else _inStep = true;
            }
            if (work != null) { work(); continue; }
            try
            {
                if (stop) { Finish(SessionState.Stopped); continue; }
                try { RunOneStep(); }
                finally { EndStep(); }
                Throttle();
            }
            catch (Exception e)
            {
                Fail(e);
            }
        }
    }

    private void EndStep()
    {
        lock (_gate)
        {
            _inStep = false;
            Monitor.PulseAll(_gate);
        }
    }

    // A disposed session takes no further step, so Dispose returns after the step in flight rather than when training ends.
    private bool WantsStep() => !_disposed && !_state.IsFinished() && _trainer != null && (_stopRequested || _running || _stepBudget > 0);

    /// <summary>Tokenizes, splits, builds the model (or restores a checkpoint), and emits "started".</summary>
    private void Prepare()
    {
        var run = _prepare();
        var trainer = new Trainer(run.Config, run.Data);
        if (_resumeFrom != null) trainer.LoadCheckpoint(_resumeFrom);
        lock (_gate)
        {
            Config = run.Config;
            _schedule = new StepSchedule(Config, OutputDir, Emit);
            _trainer = trainer;
            _appliedThreads = Config.Threads;
            SetState(_running ? SessionState.Running : SessionState.Ready, "started",
                SessionEvents.Started(Config, trainer, _resumeFrom, _appliedThreads, run.Notes));
        }
    }

    /// <summary>One step of the recipe and whatever is due after it (see <see cref="StepSchedule"/>).</summary>
    private void RunOneStep()
    {
        var trainer = _trainer!;
        ApplyThreads();
        using var measuring = trainer.Clock.Measure(); // a time budget counts the step and what follows it
        var result = _clock.Time(trainer.TrainStep);
        var ended = _schedule.AfterStep(trainer, result, _clock);
        lock (_gate)
        {
            if (_stepBudget > 0 && --_stepBudget == 0 && !_running && _state == SessionState.Running)
                SetState(SessionState.Paused, "paused", SessionEvents.AtStep(trainer.Step));
        }
        if (ended is { } state) Finish(state);
    }

    private void ApplyThreads()
    {
        int threads;
        lock (_gate) threads = _threads;
        if (threads == _appliedThreads) return;
        TorchNatives.SetThreadsForThisThread(threads);
        _appliedThreads = threads;
        Emit("compute", SessionEvents.Compute(threads));
    }

    private void Throttle()
    {
        lock (_gate)
        {
            if (_stepsPerSecond <= 0) return;
            var deadline = Environment.TickCount64 + (long)(1000 / _stepsPerSecond);
            // Waiting on the gate lets a pause, stop or queued work interrupt the pause between steps.
            while (!_disposed && !_stopRequested && _work.Count == 0 && _stepsPerSecond > 0)
            {
                var remaining = deadline - Environment.TickCount64;
                if (remaining <= 0) break;
                Monitor.Wait(_gate, (int)remaining);
            }
        }
    }

    /// <summary>Ends training in <paramref name="state"/>; with an output folder the last weights are kept as a checkpoint.</summary>
    private void Finish(SessionState state)
    {
        var trainer = _trainer!;
        if (OutputDir != null && trainer.Step > 0 && _schedule.LastCheckpointStep != trainer.Step) _schedule.SaveCheckpoint(trainer);
        lock (_gate)
        {
            _running = false;
            _stepBudget = 0;
            SetState(state, "completed", SessionEvents.Completed(trainer, state, _schedule.LastMetrics, OutputDir));
        }
        Events.Sync();
    }

    private void Fail(Exception e)
    {
        lock (_gate)
        {
            _running = false;
            _stepBudget = 0;
            _state = SessionState.Failed;
        }
        try
        {
            SetState(SessionState.Failed, "error", SessionEvents.Error(_trainer?.Step ?? 0, e));
            Events.Sync();
        }
        catch (Exception)
        {
            // The event log itself failed (disk full, an I/O error). The session has failed either way; an exception
            // leaving this thread would end the process (a notebook's kernel, or the worker before it could answer).
        }
    }

    /// <summary>Stops the thread (after its current step), frees the model and closes the event log.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
        _thread.Join();
        _trainer?.Dispose();
        Events.Dispose();
    }
}
