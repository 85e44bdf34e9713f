using System.Text.Json.Nodes;
using BulletNative.Format;
using BulletNative.Model;
using BulletNative.Tokenizer;

namespace BulletNative.Training;

/// <summary>
/// Everything a training run needs besides the text: model shape, tokenizer, recipe, schedule, evaluation,
/// sampling, checkpoints. JSON in and out through one table of fields (snake_case keys), defaults in one place,
/// and validation whose messages a person understands. Start from a preset with {"preset": "tiny", ...}.
/// The defaults below are the tiny preset; a session without a preset has <see cref="TrainPlan"/> choose the fields
/// the user did not set instead (docs/training.md, "What wins when settings conflict").
/// </summary>
public sealed class TrainConfig
{
    // Tokenizer and model shape.
    /// <summary>Key "tokenizer": "bpe" (byte-pair merges trained on the text, default) or "char" (one token per character).</summary>
    public string Tokenizer { get; set; } = "bpe";
    /// <summary>Key "vocab_size", default 512: the BPE vocabulary to train (64–32,000); for "char", 0 means every character of the text.</summary>
    public int VocabSize { get; set; } = 512;
    /// <summary>Key "hidden_size", default 64: the model width d, a positive multiple of 32.</summary>
    public int HiddenSize { get; set; } = 64;
    /// <summary>Key "num_layers", default 2: transformer blocks, at least 1.</summary>
    public int NumLayers { get; set; } = 2;
    /// <summary>Key "num_heads", default 2: attention heads; must divide hidden_size into an even head size.</summary>
    public int NumHeads { get; set; } = 2;
    /// <summary>Key "max_seq_len", default 64: the context in tokens each training window holds, at least 2.</summary>
    public int MaxSeqLen { get; set; } = 64;
    /// <summary>Key "tied_head", default false: the output head reuses the embedding instead of training its own matrix.</summary>
    public bool TiedHead { get; set; }
    /// <summary>Key "dropout", default 0: the dropout rate on the embeddings and on each attention and feed-forward output while training, in [0, 1).</summary>
    public double Dropout { get; set; }

    // Optimization.
    /// <summary>Key "batch_size", default 16: windows per micro-batch.</summary>
    public int BatchSize { get; set; } = 16;
    /// <summary>Key "grad_accum", default 1: micro-batches whose gradients are averaged into one optimizer step.</summary>
    public int GradAccum { get; set; } = 1;
    /// <summary>Key "learning_rate", default 2e-3: AdamW's peak rate (with Muon, the rate of the AdamW part) before the schedule scales it.</summary>
    public double LearningRate { get; set; } = 2e-3;
    /// <summary>Key "min_lr_ratio", default 0.1: the floor the schedule decays to, as a share of the peak, in [0, 1].</summary>
    public double MinLrRatio { get; set; } = 0.1;
    /// <summary>Key "warmup_steps", default 50: steps of linear warmup to the peak rate; counted in steps even under a time budget.</summary>
    public int WarmupSteps { get; set; } = 50;
    /// <summary>Key "total_steps", default 600: optimizer steps to train, 0 for no step limit (then epochs or time_budget_s must be set).</summary>
    public int TotalSteps { get; set; } = 600;
    /// <summary>Key "epochs", default 0 (none): passes over the training tokens, turned into steps; with total_steps the lower wins.</summary>
    public double Epochs { get; set; }
    /// <summary>Key "time_budget_s", default 0 (none): seconds of training time (pauses and export not counted), at most a week.</summary>
    public double TimeBudgetSeconds { get; set; }
    /// <summary>Key "lr_schedule", default "cosine": a name of <see cref="LrSchedule.Names"/> ("cosine" or "wsd", warmup–stable–decay).</summary>
    public string Schedule { get; set; } = "cosine";
    /// <summary>Key "decay_fraction", default 0.4: the share of the run "wsd" spends decaying to the floor, in (0, 1].</summary>
    public double DecayFraction { get; set; } = 0.4;
    /// <summary>Key "optimizer", default "adamw": "adamw" for every weight, or "muon" for the block matrices with AdamW for the rest.</summary>
    public string Optimizer { get; set; } = "adamw";
    /// <summary>Key "muon_lr", default 0.02: Muon's peak learning rate, scaled by the schedule like learning_rate.</summary>
    public double MuonLr { get; set; } = 0.02;
    /// <summary>Key "muon_momentum", default 0.95: Muon's Nesterov momentum β, in [0, 1).</summary>
    public double MuonMomentum { get; set; } = 0.95;
    /// <summary>Key "beta1", default 0.9: AdamW's first-moment decay, in [0, 1).</summary>
    public double Beta1 { get; set; } = 0.9;
    /// <summary>Key "beta2", default 0.99: AdamW's second-moment decay, in [0, 1).</summary>
    public double Beta2 { get; set; } = 0.99;
    /// <summary>Key "adam_eps", default 1e-8: AdamW's denominator epsilon, positive.</summary>
    public double AdamEps { get; set; } = 1e-8;
    /// <summary>Key "weight_decay", default 0.1: decoupled weight decay (w ← w·(1 − lr·weight_decay)), not negative.</summary>
    public double WeightDecay { get; set; } = 0.1;
    /// <summary>Key "grad_clip", default 1.0: the largest global gradient norm before clipping; 0 turns clipping off.</summary>
    public double GradClip { get; set; } = 1.0;
    /// <summary>Key "ema_decay", default 0 (off): decay of the weights' moving average that evaluation, samples and export use, in [0, 1).</summary>
    public double EmaDecay { get; set; }

    // Evaluation, samples, attention snapshots, early stopping.
    /// <summary>Key "val_fraction", default 0.1: the share of the text's characters, taken from its end, held out for validation, in [0, 0.5].</summary>
    public double ValFraction { get; set; } = 0.1;
    /// <summary>Key "eval_every", default 100: steps between validation evaluations (and at the last step); 0 turns them off.</summary>
    public int EvalEvery { get; set; } = 100;
    /// <summary>Key "eval_batches", default 10: batches of validation windows (the same ones each time) an evaluation averages, at least 1.</summary>
    public int EvalBatches { get; set; } = 10;
    /// <summary>Key "sample_every", default 100: steps between "sample" events (and at the last step); 0 turns them off.</summary>
    public int SampleEvery { get; set; } = 100;
    /// <summary>Key "sample_prompt", default "The ": the text each sample continues.</summary>
    public string SamplePrompt { get; set; } = "The ";
    /// <summary>Key "sample_length", default 60: tokens each sample generates; 0 turns samples off.</summary>
    public int SampleLength { get; set; } = 60;
    /// <summary>Key "sample_temperature", default 0.8: the samples' sampling temperature; 0 means greedy.</summary>
    public double SampleTemperature { get; set; } = 0.8;
    /// <summary>Key "attention_every", default 100: steps between "attention" snapshots (and at the last step); 0 turns them off.</summary>
    public int AttentionEvery { get; set; } = 100;
    /// <summary>Key "attention_probe": the text whose attention weights each "attention" snapshot shows.</summary>
    public string AttentionProbe { get; set; } = "The quick brown fox jumps over the lazy dog.";
    /// <summary>Key "early_stopping_patience", default 0 (off): evaluations without a better validation loss before training stops.</summary>
    public int EarlyStoppingPatience { get; set; }

    // Reproducibility, threads, checkpoints, quantization-aware training.
    /// <summary>Key "seed", default 1337: seeds initialization and dropout, the training and validation windows, and (plus the step) each sample.</summary>
    public long Seed { get; set; } = 1337;
    /// <summary>Key "threads", default 1: libtorch threads the training uses, 1–256.</summary>
    public int Threads { get; set; } = 1;
    /// <summary>Key "checkpoint_every", default 0 (off): steps between checkpoints saved to the output folder's checkpoints/step-N.</summary>
    public int CheckpointEvery { get; set; }
    /// <summary>Key "keep_last", default 2: how many scheduled step-N checkpoints are kept; older ones are deleted.</summary>
    public int KeepLast { get; set; } = 2;
    /// <summary>Key "keep_best", default true: saves checkpoints/best whenever an evaluation reaches a new best validation loss.</summary>
    public bool KeepBest { get; set; } = true;
    /// <summary>Key "qat", default false: quantization-aware training, the forward pass sees BQ4-rounded weights (docs/format.md, BQ4 block).</summary>
    public bool Qat { get; set; }
    /// <summary>Key "qat_start_step", default 0: the step from which quantization-aware training is on, when qat is set.</summary>
    public int QatStartStep { get; set; }

    /// <summary>The longest time budget accepted (a week), so a typo cannot ask for centuries.</summary>
    public const double MaxTimeBudgetSeconds = 7 * 24 * 3600;

    /// <summary>The preset names, in the order a UI should offer them.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["tiny", "small", "medium", "shakespeare-char"];

    /// <summary>A named preset: tiny (about a minute here), small, medium (vocab 4000, d 256, 8 layers), shakespeare-char (nanoGPT's CPU run).</summary>
    public static TrainConfig Preset(string name) => name switch
    {
        "tiny" => new TrainConfig(),
        "small" => new TrainConfig
        {
            VocabSize = 2000, HiddenSize = 128, NumLayers = 4, NumHeads = 4, MaxSeqLen = 128, BatchSize = 16,
            LearningRate = 1e-3, WarmupSteps = 100, TotalSteps = 3000, EvalEvery = 250, EvalBatches = 20,
            SampleEvery = 250, AttentionEvery = 250,
        },
        "medium" => new TrainConfig
        {
            VocabSize = 4000, HiddenSize = 256, NumLayers = 8, NumHeads = 8, MaxSeqLen = 512, BatchSize = 8,
            LearningRate = 6e-4, WarmupSteps = 200, TotalSteps = 5000, EvalEvery = 250, EvalBatches = 20,
            SampleEvery = 500, AttentionEvery = 500, Threads = 2, CheckpointEvery = 1000,
        },
        "shakespeare-char" => new TrainConfig
        {
            Tokenizer = "char", VocabSize = 0, HiddenSize = 128, NumLayers = 4, NumHeads = 4, MaxSeqLen = 64,
            BatchSize = 12, LearningRate = 1e-3, MinLrRatio = 0.1, WarmupSteps = 100, TotalSteps = 2000,
            Beta1 = 0.9, Beta2 = 0.99, WeightDecay = 0.1, GradClip = 1.0, Dropout = 0, TiedHead = false,
            EvalEvery = 250, EvalBatches = 50, SampleEvery = 500, AttentionEvery = 500, SamplePrompt = "ROMEO:",
            AttentionProbe = "First Citizen:\nBefore we proceed", Threads = 2,
        },
        _ => throw new BulletArgumentException($"unknown preset '{name}' (choose one of {string.Join(", ", PresetNames)})"),
    };

    /// <summary>Reads a config: the preset named by "preset" (else the defaults), then every other key over it; throws at the first unreadable key.</summary>
    public static TrainConfig FromJson(JsonObject json)
    {
        var problems = new ConfigProblems();
        var config = FromJson(json, problems);
        problems.ThrowIfAny();
        return config;
    }

    /// <summary>Reads a config and checks it, throwing one error that lists every unreadable or unworkable field.</summary>
    public static TrainConfig ReadValid(JsonObject json)
    {
        var problems = new ConfigProblems();
        var config = FromJson(json, problems);
        config.Check(problems);
        problems.ThrowIfAny();
        return config;
    }

    /// <summary>
    /// Reads a config as <see cref="FromJson(JsonObject)"/> does, but records an unknown preset, an unknown key or a
    /// value of the wrong kind in <paramref name="problems"/> and leaves that field at its default.
    /// </summary>
    public static TrainConfig FromJson(JsonObject json, ConfigProblems problems)
    {
        var config = new TrainConfig();
        if (json["preset"] is JsonNode preset)
        {
            try
            {
                config = Preset(JsonFields.Options.String(preset, "preset"));
            }
            catch (BulletArgumentException e)
            {
                problems.Add("preset", e.Message);
            }
        }
        foreach (var (key, value) in json)
        {
            if (key == "preset") continue;
            try
            {
                var field = s_fields.FirstOrDefault(f => f.Key == key) ?? throw JsonFields.Options.Unknown(key, "config key", s_keys);
                field.Read(config, value);
            }
            catch (BulletArgumentException e)
            {
                problems.Add(key, e.Message);
            }
        }
        return config;
    }

    /// <summary>Every field under its JSON key.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var field in s_fields) json[field.Key] = field.Write(this);
        return json;
    }

    /// <summary>A copy (through JSON, so no field can be forgotten).</summary>
    public TrainConfig Clone() => FromJson(ToJson());

    /// <summary>The model shape for a tokenizer of <paramref name="vocabSize"/> tokens.</summary>
    public ModelConfig ToModelConfig(int vocabSize) =>
        new(vocabSize, HiddenSize, NumLayers, NumHeads, MaxSeqLen, TiedHead, Dropout);

    /// <summary>Throws BulletArgumentException listing every field that cannot work, and why.</summary>
    public void Validate()
    {
        var problems = new ConfigProblems();
        Check(problems);
        problems.ThrowIfAny();
    }

    /// <summary>Adds every field that cannot work, and why, to <paramref name="problems"/>.</summary>
    public void Check(ConfigProblems problems)
    {
        var p = problems;
        p.Require(Tokenizer is "bpe" or "char", "tokenizer", $"tokenizer '{Tokenizer}' must be \"bpe\" or \"char\"");
        p.Require(VocabSize >= 0, "vocab_size", $"vocab_size {VocabSize} must not be negative (0 means: as many as the text has characters)");
        p.Require(Tokenizer != "bpe" || VocabSize is >= TokenizerTrainingOptions.MinVocabSize and <= TokenizerTrainingOptions.MaxVocabSize, "vocab_size",
            $"vocab_size {VocabSize} must be between {TokenizerTrainingOptions.MinVocabSize} and {TokenizerTrainingOptions.MaxVocabSize} for a BPE tokenizer");
        ToModelConfig(p.Has("vocab_size") ? 2 : Math.Max(VocabSize, 2)).Check(p); // one message per wrong vocab_size
        Positive(p, BatchSize, "batch_size");
        Positive(p, GradAccum, "grad_accum");
        p.Require(LearningRate > 0 && double.IsFinite(LearningRate), "learning_rate", $"learning_rate {LearningRate} must be a positive number");
        p.Require(MinLrRatio is >= 0 and <= 1, "min_lr_ratio", $"min_lr_ratio {MinLrRatio} must be in [0, 1]");
        NotNegative(p, WarmupSteps, "warmup_steps");
        p.Require(TotalSteps >= 0, "total_steps", $"total_steps {TotalSteps} must not be negative");
        p.Require(Epochs >= 0, "epochs", $"epochs {Epochs} must not be negative");
        p.Require(TimeBudgetSeconds is >= 0 and <= MaxTimeBudgetSeconds, "time_budget_s",
            $"time_budget_s {TimeBudgetSeconds} must be between 0 (no budget) and {MaxTimeBudgetSeconds} (a week)");
        p.Require(TotalSteps != 0 || Epochs != 0 || TimeBudgetSeconds != 0, "total_steps", "set total_steps, epochs or time_budget_s (all are 0)");
        p.Require(LrSchedule.Names.Contains(Schedule), "lr_schedule", $"lr_schedule '{Schedule}' must be one of {string.Join(", ", LrSchedule.Names)}");
        p.Require(DecayFraction is > 0 and <= 1, "decay_fraction", $"decay_fraction {DecayFraction} must be in (0, 1]");
        p.Require(Optimizer is "adamw" or "muon", "optimizer", $"optimizer '{Optimizer}' must be \"adamw\" or \"muon\"");
        p.Require(MuonLr > 0 && double.IsFinite(MuonLr), "muon_lr", $"muon_lr {MuonLr} must be a positive number");
        p.Require(MuonMomentum is >= 0 and < 1, "muon_momentum", $"muon_momentum {MuonMomentum} must be in [0, 1)");
        p.Require(Beta1 is >= 0 and < 1, "beta1", $"beta1 {Beta1} must be in [0, 1)");
        p.Require(Beta2 is >= 0 and < 1, "beta2", $"beta2 {Beta2} must be in [0, 1)");
        p.Require(AdamEps > 0, "adam_eps", $"adam_eps {AdamEps} must be positive");
        p.Require(WeightDecay >= 0, "weight_decay", $"weight_decay {WeightDecay} must not be negative");
        p.Require(GradClip >= 0, "grad_clip", $"grad_clip {GradClip} must not be negative (0 turns clipping off)");
        p.Require(EmaDecay is >= 0 and < 1, "ema_decay", $"ema_decay {EmaDecay} must be in [0, 1) (0 turns EMA off)");
        p.Require(ValFraction is >= 0 and <= 0.5, "val_fraction", $"val_fraction {ValFraction} must be in [0, 0.5]");
        NotNegative(p, EvalEvery, "eval_every");
        Positive(p, EvalBatches, "eval_batches");
        NotNegative(p, SampleEvery, "sample_every");
        NotNegative(p, SampleLength, "sample_length");
        p.Require(SampleTemperature >= 0, "sample_temperature", $"sample_temperature {SampleTemperature} must not be negative (0 means greedy)");
        NotNegative(p, AttentionEvery, "attention_every");
        NotNegative(p, EarlyStoppingPatience, "early_stopping_patience");
        p.Require(EarlyStoppingPatience == 0 || (EvalEvery > 0 && ValFraction > 0), "early_stopping_patience",
            "early_stopping_patience needs evaluation: set eval_every and val_fraction above 0");
        p.Require(Threads is >= 1 and <= 256, "threads", $"threads {Threads} must be between 1 and 256");
        NotNegative(p, CheckpointEvery, "checkpoint_every");
        Positive(p, KeepLast, "keep_last");
        NotNegative(p, QatStartStep, "qat_start_step");
    }

    private static void Positive(ConfigProblems problems, int value, string name) =>
        problems.Require(value > 0, name, $"{name} {value} must be at least 1");

    private static void NotNegative(ConfigProblems problems, int value, string name) =>
        problems.Require(value >= 0, name, $"{name} {value} must not be negative (0 turns it off)");

    private sealed record Field(string Key, Action<TrainConfig, JsonNode?> Read, Func<TrainConfig, JsonNode> Write);

    private static Field Int(string key, Func<TrainConfig, int> get, Action<TrainConfig, int> set) =>
        new(key, (c, v) => set(c, JsonFields.Options.Int(v, key)), c => get(c));

    private static Field Long(string key, Func<TrainConfig, long> get, Action<TrainConfig, long> set) =>
        new(key, (c, v) => set(c, JsonFields.Options.Long(v, key)), c => get(c));

    private static Field Num(string key, Func<TrainConfig, double> get, Action<TrainConfig, double> set) =>
        new(key, (c, v) => set(c, JsonFields.Options.Number(v, key)), c => get(c));

    private static Field Bool(string key, Func<TrainConfig, bool> get, Action<TrainConfig, bool> set) =>
        new(key, (c, v) => set(c, JsonFields.Options.Bool(v, key)), c => get(c));

    private static Field Str(string key, Func<TrainConfig, string> get, Action<TrainConfig, string> set) =>
        new(key, (c, v) => set(c, JsonFields.Options.String(v, key)), c => get(c));

    private static readonly Field[] s_fields =
    [
        Str("tokenizer", c => c.Tokenizer, (c, v) => c.Tokenizer = v),
        Int("vocab_size", c => c.VocabSize, (c, v) => c.VocabSize = v),
        Int("hidden_size", c => c.HiddenSize, (c, v) => c.HiddenSize = v),
        Int("num_layers", c => c.NumLayers, (c, v) => c.NumLayers = v),
        Int("num_heads", c => c.NumHeads, (c, v) => c.NumHeads = v),
        Int("max_seq_len", c => c.MaxSeqLen, (c, v) => c.MaxSeqLen = v),
        Bool("tied_head", c => c.TiedHead, (c, v) => c.TiedHead = v),
        Num("dropout", c => c.Dropout, (c, v) => c.Dropout = v),
        Int("batch_size", c => c.BatchSize, (c, v) => c.BatchSize = v),
        Int("grad_accum", c => c.GradAccum, (c, v) => c.GradAccum = v),
        Num("learning_rate", c => c.LearningRate, (c, v) => c.LearningRate = v),
        Num("min_lr_ratio", c => c.MinLrRatio, (c, v) => c.MinLrRatio = v),
        Int("warmup_steps", c => c.WarmupSteps, (c, v) => c.WarmupSteps = v),
        Int("total_steps", c => c.TotalSteps, (c, v) => c.TotalSteps = v),
        Num("epochs", c => c.Epochs, (c, v) => c.Epochs = v),
        Num("time_budget_s", c => c.TimeBudgetSeconds, (c, v) => c.TimeBudgetSeconds = v),
        Str("lr_schedule", c => c.Schedule, (c, v) => c.Schedule = v),
        Num("decay_fraction", c => c.DecayFraction, (c, v) => c.DecayFraction = v),
        Str("optimizer", c => c.Optimizer, (c, v) => c.Optimizer = v),
        Num("muon_lr", c => c.MuonLr, (c, v) => c.MuonLr = v),
        Num("muon_momentum", c => c.MuonMomentum, (c, v) => c.MuonMomentum = v),
        Num("beta1", c => c.Beta1, (c, v) => c.Beta1 = v),
        Num("beta2", c => c.Beta2, (c, v) => c.Beta2 = v),
        Num("adam_eps", c => c.AdamEps, (c, v) => c.AdamEps = v),
        Num("weight_decay", c => c.WeightDecay, (c, v) => c.WeightDecay = v),
        Num("grad_clip", c => c.GradClip, (c, v) => c.GradClip = v),
        Num("ema_decay", c => c.EmaDecay, (c, v) => c.EmaDecay = v),
        Num("val_fraction", c => c.ValFraction, (c, v) => c.ValFraction = v),
        Int("eval_every", c => c.EvalEvery, (c, v) => c.EvalEvery = v),
        Int("eval_batches", c => c.EvalBatches, (c, v) => c.EvalBatches = v),
        Int("sample_every", c => c.SampleEvery, (c, v) => c.SampleEvery = v),
        Str("sample_prompt", c => c.SamplePrompt, (c, v) => c.SamplePrompt = v),
        Int("sample_length", c => c.SampleLength, (c, v) => c.SampleLength = v),
        Num("sample_temperature", c => c.SampleTemperature, (c, v) => c.SampleTemperature = v),
        Int("attention_every", c => c.AttentionEvery, (c, v) => c.AttentionEvery = v),
        Str("attention_probe", c => c.AttentionProbe, (c, v) => c.AttentionProbe = v),
        Int("early_stopping_patience", c => c.EarlyStoppingPatience, (c, v) => c.EarlyStoppingPatience = v),
        Long("seed", c => c.Seed, (c, v) => c.Seed = v),
        Int("threads", c => c.Threads, (c, v) => c.Threads = v),
        Int("checkpoint_every", c => c.CheckpointEvery, (c, v) => c.CheckpointEvery = v),
        Int("keep_last", c => c.KeepLast, (c, v) => c.KeepLast = v),
        Bool("keep_best", c => c.KeepBest, (c, v) => c.KeepBest = v),
        Bool("qat", c => c.Qat, (c, v) => c.Qat = v),
        Int("qat_start_step", c => c.QatStartStep, (c, v) => c.QatStartStep = v),
    ];

    private static readonly string[] s_keys = ["preset", .. s_fields.Select(f => f.Key)];
}
