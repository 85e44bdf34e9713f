using System.Diagnostics;
using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Model;

namespace BulletNative.Training;

/// <summary>
/// One training run on its own thread, driven by controls that act between steps (start, pause, resume, stop,
/// step N, speed) and observed through pulled events. Everything that touches tensors runs on the session's
/// thread, so callers on other threads only enqueue work and read snapshots. Errors become an "error" event and
/// the "failed" state; the session stays inspectable.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    private readonly object _gate = new();
    private readonly Thread _thread;
    private readonly Queue<Action> _work = new();
    private readonly Func<PreparedRun> _prepare;
    private readonly string? _resumeFrom;
    private Trainer? _trainer;
    private string _state = "preparing";
    private bool _running, _stopRequested, _disposed, _inStep;
    private long _stepBudget;
    private double _stepsPerSecond;
    private JsonObject? _lastMetrics;
    private readonly Stopwatch _trainClock = new();
    private long _stepsThisRun;

    /// <summary>The recipe (once prepared, as resolved for the text: see <see cref="TrainPlan"/>).</summary>
    public TrainConfig Config { get; private set; }

    /// <summary>Folder for checkpoints and exports (null: nowhere on disk unless a path is given).</summary>
    public string? OutputDir { get; }

    /// <summary>The session's events.</summary>
    public EventLog Events { get; } = new();

    /// <summary>
    /// Starts the session thread, which prepares the data (tokenizer training, split) and the model, then waits
    /// for a control. With <paramref name="resumeFrom"/> it continues from that checkpoint folder.
    /// </summary>
    public TrainingSession(TrainConfig config, Func<TokenData> prepareData, string? outputDir = null, string? resumeFrom = null)
        : this(config, () => new PreparedRun(config, prepareData(), []), outputDir, resumeFrom)
    {
    }

    /// <summary>
    /// As above, with a preparation that also resolves the config for the text (<see cref="TrainPlan.ForText"/>):
    /// the session then trains the resolved config, and its notes go into the "started" event.
    /// </summary>
    public TrainingSession(TrainConfig config, Func<PreparedRun> prepare, string? outputDir = null, string? resumeFrom = null)
    {
        config.Validate();
        Config = config;
        _prepare = prepare;
        OutputDir = outputDir;
        _resumeFrom = resumeFrom;
        _thread = new Thread(ThreadMain) { IsBackground = true, Name = "bullet-training" };
        _thread.Start();
    }

    /// <summary>Current state: preparing, ready, running, paused, completed, stopped, early_stopped or failed.</summary>
    public string State { get { lock (_gate) return _state; } }

    /// <summary>Starts continuous training (from ready), or continues it (from paused).</summary>
    public void Start() => Control(() =>
    {
        RequireTrainable("start");
        if (_state == "paused") Events.Add("resumed", new JsonObject { ["step"] = _trainer?.Step ?? 0 });
        _running = true;
        if (_state != "preparing") _state = "running";
    });

    /// <summary>Stops training after the current step and returns once that step is done; resume or step continue from there.</summary>
    public void Pause() => Control(() =>
    {
        if (_state != "running" && _state != "preparing") return;
        _running = false;
        _stepBudget = 0;
        if (Thread.CurrentThread != _thread)
            while (_inStep) Monitor.Wait(_gate);
        if (_state == "running") { _state = "paused"; Events.Add("paused", new JsonObject { ["step"] = _trainer?.Step ?? 0 }); }
    });

    /// <summary>Continues after a pause.</summary>
    public void Resume() => Start();

    /// <summary>Ends training gracefully after the current step; what was learned stays (export and checkpoints still work).</summary>
    public void Stop() => Control(() =>
    {
        if (IsFinished) return;
        _stopRequested = true;
    });

    /// <summary>Runs <paramref name="steps"/> more steps, then waits (paused).</summary>
    public void StepN(long steps) => Control(() =>
    {
        if (steps <= 0) throw new BulletArgumentException($"steps {steps} must be at least 1");
        RequireTrainable("step");
        if (_running) throw new BulletArgumentException("the session is running; pause it before stepping");
        _stepBudget += steps;
    });

    /// <summary>Limits training to <paramref name="stepsPerSecond"/> (0 = full speed).</summary>
    public void SetSpeed(double stepsPerSecond) => Control(() =>
    {
        if (!(stepsPerSecond >= 0 && double.IsFinite(stepsPerSecond)))
            throw new BulletArgumentException($"speed {stepsPerSecond} must be 0 (full speed) or a positive number of steps per second");
        _stepsPerSecond = stepsPerSecond;
    });

    /// <summary>One optimizer step, run on the session thread while it is not running; returns that step's metrics event.</summary>
    public JsonObject TrainStep()
    {
        lock (_gate)
        {
            RequireTrainable("step");
            if (_running) throw new BulletArgumentException("the session is running; pause it before stepping");
        }
        return Invoke(() =>
        {
            lock (_gate) RequireTrainable("step");
            RunOneStep();
            return _lastMetrics!.DeepClone().AsObject();
        });
    }

    /// <summary>A snapshot for the caller: state, step, totals, the last metrics, best validation loss.</summary>
    public JsonObject Status()
    {
        lock (_gate)
        {
            return new JsonObject
            {
                ["state"] = _state,
                ["step"] = _trainer?.Step ?? 0,
                ["total_steps"] = _trainer?.TotalSteps,
                ["speed"] = _stepsPerSecond,
                ["last_seq"] = Events.LastSeq,
                ["best_val_loss"] = _trainer is { BestValLoss: var b } && double.IsFinite(b) ? b : null,
                ["best_val_bpc"] = _trainer is { BestValBpc: var bpc } && double.IsFinite(bpc) ? bpc : null,
                ["metrics"] = _lastMetrics?.DeepClone(),
                ["config"] = Config.ToJson(),
            };
        }
    }

    /// <summary>Saves a checkpoint now (to <paramref name="folder"/>, or the output folder's checkpoints/step-N); returns its path.</summary>
    public string SaveCheckpoint(string? folder = null) => Invoke(() =>
    {
        var trainer = RequireTrainer();
        var path = folder ?? CheckpointFolder(trainer.Step);
        trainer.SaveCheckpoint(path, []);
        Events.Add("checkpoint", new JsonObject { ["step"] = trainer.Step, ["path"] = path, ["best"] = false });
        return path;
    });

    /// <summary>
    /// Exports the model (options: "path" of the .bullet, default {output_dir}/model.bullet; "model_name"; "model_card";
    /// "float_dir" for an FP32 safetensors copy; "verify_windows") and returns the verification result.
    /// </summary>
    public JsonObject Export(JsonObject options) => Invoke(trainer =>
    {
        string? Text(string key) => JsonFields.Options.OptionalString(options, key);
        var path = Text("path") ?? Path.Combine(OutputDir ?? throw new BulletArgumentException("give a path: the session has no output folder"), "model.bullet");
        var export = new ExportOptions(Text("model_name") ?? Path.GetFileNameWithoutExtension(path), Text("model_card") ?? "",
            JsonFields.Options.OptionalInt(options, "verify_windows") ?? 64);
        var result = ModelExporter.ExportBullet(trainer, path, export);
        if (Text("float_dir") is { } floatDir) result["float"] = ModelExporter.ExportFloat(trainer, floatDir, export.ModelName);
        Events.Add("exported", result.DeepClone().AsObject());
        return result;
    });

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
            if (_disposed) throw new BulletException(Interop.NativeStatus.InvalidHandle, "the session is closed");
            _work.Enqueue(() =>
            {
                try { result = body(); }
                catch (Exception e) { error = e; }
                finally { done.Set(); }
            });
            Monitor.PulseAll(_gate);
        }
        done.Wait();
        if (error != null) throw error is BulletException ? error : new BulletException(Interop.NativeStatus.InternalError, error.Message, error);
        return result;
    }

    private void Control(Action change)
    {
        lock (_gate)
        {
            if (_disposed) throw new BulletException(Interop.NativeStatus.InvalidHandle, "the session is closed");
            change();
            Monitor.PulseAll(_gate);
        }
    }

    private bool IsFinished => _state is "completed" or "stopped" or "early_stopped" or "failed";

    private void RequireTrainable(string action)
    {
        if (IsFinished) throw new BulletArgumentException($"cannot {action}: the session has {_state.Replace('_', ' ')}");
    }

    private Trainer RequireTrainer() =>
        _trainer ?? throw new BulletArgumentException($"the session is not ready yet (state {State})");

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
            lock (_gate)
            {
                while (!_disposed && _work.Count == 0 && !WantsStep()) Monitor.Wait(_gate);
                if (_disposed && _work.Count == 0) return;
                if (_work.Count > 0) work = _work.Dequeue();
            }
            if (work != null) { work(); continue; }
            try
            {
                if (_stopRequested) { Finish("stopped"); continue; }
                SetInStep(true);
                try { RunOneStep(); }
                finally { SetInStep(false); }
                Throttle();
            }
            catch (Exception e)
            {
                Fail(e);
            }
        }
    }

    private void SetInStep(bool value)
    {
        lock (_gate)
        {
            _inStep = value;
            Monitor.PulseAll(_gate);
        }
    }

    // A disposed session takes no further step, so Dispose returns after the step in flight rather than when training ends.
    private bool WantsStep() => !_disposed && !IsFinished && _trainer != null && (_stopRequested || _running || _stepBudget > 0);

    /// <summary>Tokenizes, splits, builds the model (or restores a checkpoint), and emits "started".</summary>
    private void Prepare()
    {
        var run = _prepare();
        var data = run.Data;
        lock (_gate) Config = run.Config;
        var trainer = new Trainer(Config, data);
        if (_resumeFrom != null) trainer.LoadCheckpoint(_resumeFrom);
        lock (_gate)
        {
            _trainer = trainer;
            _state = _running ? "running" : "ready";
        }
        Events.Add("started", new JsonObject
        {
            ["config"] = Config.ToJson(),
            ["model"] = trainer.Model.Config.ToJson(),
            ["parameters"] = trainer.Model.Config.ParameterCount,
            ["train_tokens"] = data.Train.Length,
            ["val_tokens"] = data.Val.Length,
            ["vocab_size"] = data.Codec.VocabSize,
            ["total_steps"] = trainer.TotalSteps,
            ["time_budget_s"] = trainer.Limits.BudgetSeconds,
            ["step"] = trainer.Step,
            ["resumed_from"] = _resumeFrom,
            ["notes"] = new JsonArray(run.Notes.Select(n => (JsonNode)n).ToArray()),
            // What decides speed, so a slow run can be explained from its events.
            ["compute"] = new JsonObject
            {
                ["threads"] = Config.Threads,
                ["mkl_intel_path"] = MklDispatch.Forced,
                ["omp_wait_policy"] = TorchNatives.OpenMpWaitPolicy,
            },
        });
    }

    /// <summary>
    /// One step of the recipe and whatever is due after it: metrics (with validation loss on eval steps), early
    /// stopping, samples, attention snapshots, checkpoints, completion.
    /// </summary>
    private void RunOneStep()
    {
        var trainer = _trainer!;
        using var measuring = trainer.Clock.Measure(); // the time budget counts the step and what follows it
        _trainClock.Start();
        var result = trainer.TrainStep();
        _trainClock.Stop();
        _stepsThisRun++;
        var step = result.Step;
        var last = trainer.IsComplete;

        var val = IsDue(Config.EvalEvery, step, last) ? trainer.EvaluateText() : null;
        var valLoss = val?.Loss;
        EmitMetrics(trainer, result, val);
        if (IsDue(Config.SampleEvery, step, last) && Config.SampleLength > 0)
            Events.Add("sample", new JsonObject
            {
                ["step"] = step,
                ["prompt"] = Config.SamplePrompt,
                ["text"] = trainer.Sample(Config.SamplePrompt, Config.SampleLength, Config.SampleTemperature, (ulong)(Config.Seed + step)),
            });
        if (IsDue(Config.AttentionEvery, step, last))
        {
            var snapshot = trainer.AttentionSnapshot(Config.AttentionProbe);
            snapshot["step"] = step;
            Events.Add("attention", snapshot);
        }
        SaveScheduledCheckpoints(trainer, step, valLoss);

        lock (_gate)
        {
            if (_stepBudget > 0 && --_stepBudget == 0 && !_running && _state == "running") _state = "paused";
        }
        if (valLoss != null && trainer.ShouldStopEarly)
        {
            Events.Add("early_stopped", new JsonObject
            {
                ["step"] = step, ["best_val_loss"] = trainer.BestValLoss, ["best_step"] = trainer.BestStep,
                ["patience"] = Config.EarlyStoppingPatience,
            });
            Finish("early_stopped");
        }
        else if (last) Finish("completed");
    }

    private static bool IsDue(int every, long step, bool last) => every > 0 && (step % every == 0 || last);

    private void EmitMetrics(Trainer trainer, StepMetrics result, TextLoss? val)
    {
        var seconds = _trainClock.Elapsed.TotalSeconds;
        var valLoss = val?.Loss;
        var metrics = new JsonObject
        {
            ["step"] = result.Step,
            ["total_steps"] = trainer.TotalSteps,
            ["epoch"] = Math.Round((double)result.Step * result.Tokens / trainer.Data.Train.Length, 4),
            ["train_loss"] = result.TrainLoss,
            ["val_loss"] = valLoss,
            ["train_bpc"] = Math.Round(result.TrainBpc, 5),
            ["val_bpc"] = val is { } v ? Math.Round(v.BitsPerChar, 5) : null,
            ["val_bpb"] = val is { } vb ? Math.Round(vb.BitsPerByte, 5) : null,
            ["perplexity"] = Math.Exp(valLoss ?? result.TrainLoss),
            ["lr"] = result.LearningRate,
            ["grad_norm"] = result.GradNorm,
            ["tokens_per_sec"] = Math.Round(_stepsThisRun * result.Tokens / Math.Max(seconds, 1e-9), 1),
            ["elapsed_sec"] = Math.Round(trainer.Clock.Seconds, 3),
            ["eta_sec"] = Math.Round(trainer.SecondsLeft, 1),
        };
        lock (_gate) _lastMetrics = metrics.DeepClone().AsObject();
        Events.Add("metrics", metrics);
    }

    private void SaveScheduledCheckpoints(Trainer trainer, long step, double? valLoss)
    {
        if (OutputDir is null) return;
        if (Config.CheckpointEvery > 0 && step % Config.CheckpointEvery == 0)
        {
            var path = CheckpointFolder(step);
            trainer.SaveCheckpoint(path, []);
            Events.Add("checkpoint", new JsonObject { ["step"] = step, ["path"] = path, ["best"] = false });
            PruneCheckpoints();
        }
        if (Config.KeepBest && valLoss != null && trainer.BestStep == step)
        {
            var path = Path.Combine(OutputDir, "checkpoints", "best");
            trainer.SaveCheckpoint(path, []);
            Events.Add("checkpoint", new JsonObject { ["step"] = step, ["path"] = path, ["best"] = true, ["val_loss"] = valLoss });
        }
    }

    private string CheckpointFolder(long step) =>
        Path.Combine(OutputDir ?? throw new BulletArgumentException("the session has no output folder; give a checkpoint path"),
            "checkpoints", $"step-{step:D7}");

    private void PruneCheckpoints()
    {
        var folders = Directory.GetDirectories(Path.Combine(OutputDir!, "checkpoints"), "step-*").Order(StringComparer.Ordinal).ToList();
        foreach (var old in folders.Take(Math.Max(0, folders.Count - Config.KeepLast))) Directory.Delete(old, recursive: true);
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

    private void Finish(string state)
    {
        var trainer = _trainer!;
        lock (_gate)
        {
            _state = state;
            _running = false;
            _stepBudget = 0;
        }
        Events.Add("completed", new JsonObject
        {
            ["step"] = trainer.Step,
            ["reason"] = state,
            ["metrics"] = _lastMetrics?.DeepClone(),
            ["best_val_loss"] = double.IsFinite(trainer.BestValLoss) ? trainer.BestValLoss : null,
            ["best_val_bpc"] = double.IsFinite(trainer.BestValBpc) ? Math.Round(trainer.BestValBpc, 5) : null,
            ["best_step"] = trainer.BestStep,
            ["training_sec"] = Math.Round(trainer.Clock.Seconds, 3),
            ["output_dir"] = OutputDir,
        });
    }

    private void Fail(Exception e)
    {
        lock (_gate)
        {
            _state = "failed";
            _running = false;
            _stepBudget = 0;
        }
        Events.Add("error", new JsonObject { ["step"] = _trainer?.Step ?? 0, ["message"] = e is BulletException ? e.Message : $"{e.GetType().Name}: {e.Message}" });
    }

    /// <summary>Stops the thread (after its current step) and frees the model.</summary>
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
    }
}
