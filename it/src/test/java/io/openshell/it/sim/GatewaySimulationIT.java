package io.openshell.it.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Randomized supervisor/client histories against the real gateway actors, with the invariants of
 * docs/simulation.md checked after every step. A failing history is shrunk and printed with its seed
 * and the one command that runs it again.
 *
 * <p>{@code -Dsim.histories=N} (default 200, the CI set; {@code -Psim-nightly} runs 10,000),
 * {@code -Dsim.first-seed=S} (default 1), {@code -Dsim.seed=S} (just that seed),
 * {@code -Dsim.restart-every=K} (every K-th seed restarts the node over a SQLite journal; default 20).
 */
class GatewaySimulationIT {
  /**
   * The node's relay cap is lowered so that three sandboxes can reach it; the per-sandbox cap is the
   * default (32), reached by bursts of up to 40 opens.
   */
  static final Config SETTINGS = ConfigFactory.parseString("openshell.gateway.relay.max-pending-per-node = 48");

  private static SimulatedGateway shared;
  private static ErrorLog errors;
  private static Path scratch;

  @BeforeAll
  static void startNode() throws Exception {
    SimulationExecutor.requireTrackableCommonPool();
    errors = ErrorLog.install();
    scratch = Files.createTempDirectory("gateway-simulation");
    shared = SimulatedGateway.start("sim", java.util.Optional.empty(), SETTINGS);
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (shared != null) shared.close();
    if (errors != null) errors.uninstall();
    if (scratch != null) {
      try (var files = Files.list(scratch)) {
        for (Path file : files.toList()) Files.deleteIfExists(file);
      }
      Files.deleteIfExists(scratch);
    }
  }

  @Test
  void everyRandomizedHistoryKeepsTheGatewayInvariants() throws Exception {
    String single = System.getProperty("sim.seed", "");
    long first = single.isBlank() ? Long.getLong("sim.first-seed", 1) : Long.parseLong(single.trim());
    int count = single.isBlank() ? Integer.getInteger("sim.histories", 200) : 1;
    int restartEvery = Integer.getInteger("sim.restart-every", 20);
    long started = System.nanoTime();
    int steps = 0;
    int restarted = 0;
    List<String> failures = new ArrayList<>();
    for (long seed = first; seed < first + count; seed++) {
      Histories.History history = Histories.generate(seed, restartEvery);
      steps += history.steps().size();
      if (history.restarts()) restarted++;
      long historyStarted = System.nanoTime();
      World.Verdict verdict = World.run(history, shared, scratch, SETTINGS, errors);
      if (Boolean.getBoolean("sim.trace")) {
        System.out.printf("seed %d: %d steps%s in %d ms%n", seed, history.steps().size(), history.restarts() ? " (restarts)" : "",
            (System.nanoTime() - historyStarted) / 1_000_000);
      }
      if (verdict.passed()) continue;
      failures.add(report(history, verdict, restartEvery));
      if (failures.size() >= 3) break;
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("gateway simulation: %d histories (%d with a node restart), %d steps, %.1f s, %d failed%n",
        count, restarted, steps, seconds, failures.size());
    assertTrue(failures.isEmpty(), String.join("\n\n", failures));
  }

  @Test
  void aHelloRefusedAfterTheSupervisorStoppedReadingEndsTheSessionWithoutACrash() throws Exception {
    // Found by the simulation: the refusal failed a response stream the supervisor had already
    // cancelled, and the session actor crashed on the queue's IllegalStateException.
    Histories.History history = new Histories.History(-1, 1, false, List.of(
        new Step.Delete(0), new Step.DriverFinishesDelete(0),
        new Step.Together(List.of(new Step.Connect(0), new Step.OutboundDrops(0)))));
    World.Verdict verdict = World.run(history, shared, scratch, SETTINGS, errors);
    assertTrue(verdict.passed(), String.join("\n", verdict.violations()));
  }

  private static String report(Histories.History history, World.Verdict verdict, int restartEvery) throws Exception {
    Histories.History minimal = Shrinker.shrink(history, candidate -> !World.run(candidate, shared, scratch, SETTINGS, errors).passed());
    World.Verdict minimalVerdict = World.run(minimal, shared, scratch, SETTINGS, errors);
    StringBuilder out = new StringBuilder();
    out.append("SIMULATION FAILED: seed ").append(history.seed()).append(" (").append(history.steps().size())
        .append(" steps, ").append(history.sandboxes()).append(" sandboxes").append(history.restarts() ? ", restarts" : "")
        .append(") broke at ").append(verdict.step() < 0 ? "the end-of-history checks" : "step " + verdict.step())
        .append(":\n");
    verdict.violations().forEach(v -> out.append("  - ").append(v).append('\n'));
    out.append("Shrunk to ").append(minimal.steps().size()).append(" steps:\n");
    for (int i = 0; i < minimal.steps().size(); i++) out.append("  ").append(i).append(": ").append(minimal.steps().get(i)).append('\n');
    out.append("which breaks at ").append(minimalVerdict.step() < 0 ? "the end-of-history checks" : "step " + minimalVerdict.step())
        .append(" with:\n");
    minimalVerdict.violations().forEach(v -> out.append("  - ").append(v).append('\n'));
    out.append("Re-run: mvn -B -pl it -am verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=GatewaySimulationIT -Dsim.seed=")
        .append(history.seed()).append(restartEvery == 20 ? "" : " -Dsim.restart-every=" + restartEvery);
    System.out.println(out);
    return out.toString();
  }
}
