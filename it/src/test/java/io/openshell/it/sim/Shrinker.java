package io.openshell.it.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * Makes a failing history small: removes chunks of steps (halves, quarters, … single steps) and the
 * parts of racing steps while the history still fails, so the printed history shows only what the
 * failure needs. Bounded: a shrink never runs more than {@link #MAX_RUNS} candidate histories.
 */
final class Shrinker {
  private Shrinker() {}

  static final int MAX_RUNS = 400;

  @FunctionalInterface
  interface Failing {
    boolean test(Histories.History candidate) throws Exception;
  }

  static Histories.History shrink(Histories.History failing, Failing stillFails) throws Exception {
    List<Step> steps = new ArrayList<>(failing.steps());
    int runs = 0;
    for (int chunk = Math.max(1, steps.size() / 2); chunk >= 1 && runs < MAX_RUNS; chunk = chunk / 2) {
      boolean removedAny = true;
      while (removedAny && runs < MAX_RUNS) {
        removedAny = false;
        for (int from = 0; from < steps.size() && runs < MAX_RUNS; ) {
          List<Step> candidate = new ArrayList<>(steps);
          candidate.subList(from, Math.min(steps.size(), from + chunk)).clear();
          runs++;
          if (stillFails.test(failing.withSteps(candidate))) {
            steps = candidate;
            removedAny = true;
          } else {
            from += chunk;
          }
        }
      }
      if (chunk == 1) break;
    }
    // Racing steps: drop the parts the race does not need.
    for (int i = 0; i < steps.size() && runs < MAX_RUNS; i++) {
      if (!(steps.get(i) instanceof Step.Together together)) continue;
      List<Step> parts = new ArrayList<>(together.steps());
      for (int p = 0; p < parts.size() && runs < MAX_RUNS; ) {
        List<Step> fewer = new ArrayList<>(parts);
        fewer.remove(p);
        List<Step> candidate = new ArrayList<>(steps);
        candidate.set(i, fewer.size() == 1 ? fewer.get(0) : new Step.Together(List.copyOf(fewer)));
        runs++;
        if (stillFails.test(failing.withSteps(candidate))) {
          parts = fewer;
          steps = candidate;
        } else {
          p++;
        }
        if (parts.size() == 1) break;
      }
    }
    return failing.withSteps(List.copyOf(steps));
  }
}
