using BulletBench;

// Each benchmark is a static Run(string[] args) in its own file; add one line here per benchmark.
var benchmarks = new Dictionary<string, Action<string[]>>
{
    ["bq4"] = Bq4Bench.Run,
    ["generate"] = GenerateBench.Run,
    ["speedrun"] = SpeedrunBench.Run,
    ["tokenizer"] = TokenizerBench.Run,
    ["train_shakespeare"] = TrainShakespeareBench.Run,
    ["train_step_profile"] = TrainStepProfileBench.Run,
    ["train_threads"] = TrainThreadsBench.Run,
    ["train_tiny"] = TrainTinyBench.Run,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: BulletBench <{string.Join("|", benchmarks.Keys)}> [args]");
    return 2;
}
run(args[1..]);
return 0;
