package io.openshell.it.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seed → history. The same seed always yields the same history (and, with the simulation's one
 * thread and stopped clock, the same run).
 */
final class Histories {
  private Histories() {}

  /** The shape of one history: how many sandboxes, whether the node restarts, its steps. */
  record History(long seed, int sandboxes, boolean restarts, List<Step> steps) {
    History withSteps(List<Step> fewer) {
      return new History(seed, sandboxes, restarts, fewer);
    }
  }

  /** Every {@code restartEvery}-th seed restarts the node (a SQLite journal: slower, so fewer). */
  static History generate(long seed, int restartEvery) {
    Random random = new Random(seed);
    boolean restarts = restartEvery > 0 && Math.floorMod(seed, restartEvery) == 0;
    int sandboxes = 1 + random.nextInt(3);
    int length = 12 + random.nextInt(28);
    List<Step> steps = new ArrayList<>();
    steps.add(new Step.Connect(random.nextInt(sandboxes)));
    for (int i = 0; i < length; i++) {
      if (random.nextInt(6) == 0) {
        // A race: two or three actions enqueued before anything settles.
        int n = 2 + random.nextInt(2);
        List<Step> together = new ArrayList<>();
        for (int k = 0; k < n; k++) together.add(action(random, sandboxes, false));
        steps.add(new Step.Together(together));
      } else {
        steps.add(action(random, sandboxes, restarts));
      }
    }
    return new History(seed, sandboxes, restarts, steps);
  }

  private static Step action(Random random, int sandboxes, boolean restarts) {
    int sandbox = random.nextInt(sandboxes);
    int any = random.nextInt(1 << 16);
    int roll = random.nextInt(100);
    if (roll < 12) return new Step.Connect(sandbox);
    if (roll < 17) return new Step.StreamEnds(any, random.nextBoolean());
    if (roll < 20) return new Step.OutboundDrops(any);
    if (roll < 24) return new Step.LateCleanup(any);
    if (roll < 38) {
      // Mostly one open; sometimes a burst past the per-sandbox cap.
      int count = random.nextInt(5) == 0 ? 1 + random.nextInt(40) : 1;
      return new Step.Open(sandbox, count, random.nextBoolean());
    }
    if (roll < 42) return new Step.Abandon(any);
    if (roll < 58) {
      Step.Answer answer = random.nextInt(5) < 3 ? Step.Answer.RELAY_STREAM
          : random.nextBoolean() ? Step.Answer.OPEN_FAILED : Step.Answer.RELAY_CLOSE;
      return new Step.SupervisorAnswers(any, random.nextInt(1 << 16), answer);
    }
    if (roll < 60) return new Step.RelayStreamForUnknownChannel();
    if (roll < 62) return new Step.RelayStreamForUsedChannel(any);
    if (roll < 70) return new Step.Bytes(any, random.nextBoolean(), 1 + random.nextInt(40_000));
    if (roll < 72) return new Step.RelayEnds(any, random.nextBoolean());
    if (roll < 75) return new Step.Delete(sandbox);
    if (roll < 78) return new Step.DriverFinishesDelete(sandbox);
    if (roll < 86) return new Step.DriverReports(sandbox, Step.Report.values()[random.nextInt(Step.Report.values().length)]);
    if (restarts && roll < 90) return new Step.Restart();
    int[] waits = {1, 2, 5, 9, 10, 11, 13, 16, 31};
    return new Step.TimePasses(waits[random.nextInt(waits.length)]);
  }
}
