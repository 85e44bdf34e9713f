using BulletNative.Training;

namespace BulletNative.Tests;

public class TrainerTests
{
    private static double[] Losses(Trainer trainer, int steps) =>
        Enumerable.Range(0, steps).Select(_ => trainer.TrainStep().TrainLoss).ToArray();

    [Test]
    public void Same_seed_data_and_threads_give_the_same_loss_curve_to_the_last_bit()
    {
        var config = TestCodec.TinyConfig();
        config.Dropout = 0.1;
        config.GradAccum = 2;
        var data = TestCodec.Corpus(config);
        double[] first, second, otherSeed;
        using (var trainer = new Trainer(config, data)) first = Losses(trainer, 6);
        using (var trainer = new Trainer(config, data)) second = Losses(trainer, 6);
        config.Seed += 1;
        using (var trainer = new Trainer(config, data)) otherSeed = Losses(trainer, 6);
        Assert.That(second, Is.EqualTo(first));
        Assert.That(otherSeed, Is.Not.EqualTo(first));
    }

    [Test]
    public void Loss_falls_and_validation_is_measured_on_the_same_windows()
    {
        var config = TestCodec.TinyConfig();
        config.TotalSteps = 40;
        using var trainer = new Trainer(config, TestCodec.Corpus(config));
        var before = trainer.Evaluate()!.Value;
        Assert.That(trainer.WithEvalWeights(() => 0) + trainer.Evaluate()!.Value, Is.EqualTo(before), "evaluation must not change anything");
        var losses = Losses(trainer, 40);
        var after = trainer.Evaluate()!.Value;
        Assert.That(losses[^5..].Average(), Is.LessThan(losses[..5].Average() - 0.5));
        Assert.That(after, Is.LessThan(before - 0.5));
        Assert.That(trainer.BestValLoss, Is.EqualTo(after));
    }

    [Test]
    public void Resuming_from_a_checkpoint_continues_the_same_curve()
    {
        var config = TestCodec.TinyConfig();
        config.Dropout = 0.1;
        config.GradAccum = 2;
        config.EmaDecay = 0.9;
        config.TotalSteps = 8;
        var data = TestCodec.Corpus(config);
        double[] straight;
        using (var trainer = new Trainer(config, data)) straight = Losses(trainer, 8);

        var folder = Path.Combine(TestPaths.NewScratch(), "step-4");
        using (var trainer = new Trainer(config, data))
        {
            Losses(trainer, 4);
            trainer.Evaluate();
            trainer.SaveCheckpoint(folder + "/"); // a trailing separator names the same folder
        }
        using var resumed = new Trainer(config, data);
        var state = resumed.LoadCheckpoint(folder);
        Assert.That((long)state["step"]!, Is.EqualTo(4));
        Assert.That(resumed.BestValLoss, Is.LessThan(double.PositiveInfinity));
        var rest = Losses(resumed, 4);
        Assert.That(rest, Is.EqualTo(straight[4..]).Within(1e-6));
    }

    [Test]
    public void An_absurd_learning_rate_ends_in_a_clear_error()
    {
        var config = TestCodec.TinyConfig();
        config.LearningRate = 1e30;
        config.WarmupSteps = 0;
        config.GradClip = 0;
        using var trainer = new Trainer(config, TestCodec.Corpus(config));
        var error = Assert.Throws<BulletException>(() => Losses(trainer, 30));
        Assert.That(error!.Message, Does.Contain("learning rate"));
    }

    [Test]
    public void Samples_and_attention_snapshots_are_reproducible_and_well_formed()
    {
        var config = TestCodec.TinyConfig();
        using var trainer = new Trainer(config, TestCodec.Corpus(config));
        Losses(trainer, 3);
        var a = trainer.Sample("the ", 10, 0.8, 42);
        Assert.That(a.Length, Is.EqualTo(10));
        Assert.That(trainer.Sample("the ", 10, 0.8, 42), Is.EqualTo(a));
        Assert.That(trainer.Sample("the ", 10, 0, 1), Is.EqualTo(trainer.Sample("the ", 10, 0, 2)), "greedy ignores the seed");

        var snapshot = trainer.AttentionSnapshot("the cat");
        Assert.That(snapshot["tokens"]!.AsArray().Count, Is.EqualTo(7));
        var row = snapshot["maps"]![0]![1]![6]!.AsArray().Select(v => (double)v!).ToArray();
        Assert.That(row.Length, Is.EqualTo(7));
        Assert.That(row.Sum(), Is.EqualTo(1.0).Within(0.01));
    }

    [Test]
    public void Early_stopping_ends_training_when_validation_stops_improving()
    {
        var config = TestCodec.TinyConfig();
        config.LearningRate = 1e-30; // the weights cannot move, so validation never improves after the first evaluation
        config.WarmupSteps = 0;
        config.EvalEvery = 2;
        config.EarlyStoppingPatience = 2;
        using var trainer = new Trainer(config, TestCodec.Corpus(config));
        var evaluations = 0;
        while (!trainer.ShouldStopEarly && trainer.Step < config.TotalSteps)
        {
            trainer.TrainStep();
            if (trainer.Step % config.EvalEvery == 0) { trainer.Evaluate(); evaluations++; }
        }
        Assert.That(evaluations, Is.EqualTo(3));
        Assert.That(trainer.BestStep, Is.EqualTo(2));
    }

    [Test]
    public void Epochs_set_the_number_of_steps_from_the_training_tokens()
    {
        var config = TestCodec.TinyConfig();
        config.TotalSteps = 0;
        config.Epochs = 2;
        var data = TestCodec.Corpus(config);
        using var trainer = new Trainer(config, data);
        Assert.That(trainer.TotalSteps, Is.EqualTo((long)Math.Ceiling(2.0 * data.Train.Length / (config.BatchSize * config.MaxSeqLen))));
    }

    [Test]
    public void Quantization_aware_training_switches_on_at_its_step_and_still_learns()
    {
        var config = TestCodec.TinyConfig();
        config.Qat = true;
        config.QatStartStep = 3;
        config.TotalSteps = 30;
        using var trainer = new Trainer(config, TestCodec.Corpus(config));
        trainer.TrainStep();
        Assert.That(trainer.Model.FakeQuantize, Is.False);
        var losses = Enumerable.Range(0, 29).Select(_ => trainer.TrainStep().TrainLoss).ToArray();
        Assert.That(trainer.Model.FakeQuantize, Is.True);
        Assert.That(losses[^3..].Average(), Is.LessThan(losses[..3].Average() - 0.3));
    }
}
