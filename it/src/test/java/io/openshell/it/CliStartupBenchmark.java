package io.openshell.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CLI start-up (issue #10): {@code openshell status} against a running gateway through the real
 * {@code ./openshell} launcher (its JVM flags and class-data archive), beside the same jar run as plain
 * {@code java -jar} in the same run; and {@code ssh-proxy}'s start → its first CONNECT byte on a listening
 * socket, beside a bare JVM that only dials and writes a byte. Wall time of each run, and its CPU time
 * (user + system, from bash's {@code times}) because on a shared machine the wall time mostly measures the
 * queue for a core.
 */
class CliStartupBenchmark {
  private static final int RUNS = Integer.getInteger("bench.cli-runs", 20);
  private static final Pattern CHILD_TIMES = Pattern.compile("(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s\\s*$");

  private static GatewayProcess gateway;
  private static Path home;

  @BeforeAll
  static void startGateway() throws Exception {
    Path state = Files.createTempDirectory("cli-startup-bench");
    home = Files.createDirectories(state.resolve("home"));
    gateway = GatewayProcess.start(state.resolve("gateway"), "sqlite::memory:");
    // Not while the gateway trains its supervisor archive: that JVM would compete for the cores.
    Awaits.require(java.time.Duration.ofSeconds(150), "the supervisor class-data archive",
        () -> gateway.logText().contains("supervisor class-data archive ready"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (gateway != null) gateway.close();
  }

  /** Wall and CPU milliseconds of one command run under bash (its children's times from {@code times}). */
  record Run(double wallMillis, double cpuMillis, int exitCode, String stdout) {}

  private static Run timed(List<String> command) throws IOException, InterruptedException {
    Files.createDirectories(home);
    Path out = Files.createTempFile(home, "out", ".txt");
    Path times = Files.createTempFile(home, "times", ".txt");
    List<String> wrapped = new ArrayList<>(List.of("bash", "-c", "\"$@\" >\"$OUT\" 2>&1; status=$?; times >\"$TIMES\"; exit $status", "bash"));
    wrapped.addAll(command);
    ProcessBuilder builder = new ProcessBuilder(wrapped).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    builder.environment().remove("OPENSHELL_GATEWAY_ENDPOINT");
    builder.environment().put("HOME", home.toString());
    builder.environment().put("XDG_STATE_HOME", home.resolve("state").toString());
    builder.environment().put("XDG_CONFIG_HOME", home.resolve("config").toString());
    builder.environment().put("OUT", out.toString());
    builder.environment().put("TIMES", times.toString());
    long started = System.nanoTime();
    Process process = builder.start();
    if (!process.waitFor(600, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(command + " did not finish in 600 s");
    }
    double wall = (System.nanoTime() - started) / 1e6;
    List<String> lines = Files.readAllLines(times, StandardCharsets.UTF_8);
    Matcher children = CHILD_TIMES.matcher(lines.get(lines.size() - 1));
    assertTrue(children.find(), "bash times output: " + lines);
    double cpu = (Integer.parseInt(children.group(1)) * 60 + Double.parseDouble(children.group(2))
        + Integer.parseInt(children.group(3)) * 60 + Double.parseDouble(children.group(4))) * 1000;
    Run run = new Run(wall, cpu, process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(times);
    return run;
  }

  private static List<String> launcher(String... args) {
    List<String> command = new ArrayList<>(List.of(Repo.root().resolve("openshell").toString()));
    command.addAll(List.of(args));
    return command;
  }

  private static List<String> plainJar(String... args) {
    List<String> command = new ArrayList<>(List.of(Repo.java(), "-jar", Repo.jar("client", "openshell-cli").toString()));
    command.addAll(List.of(args));
    return command;
  }

  @Test
  void statusThroughTheLauncherAgainstARunningGateway() throws Exception {
    String[] status = {"status", "--gateway-endpoint", gateway.endpoint()};
    // The first launcher run after a build trains the CLI's class-data archive (once per jar).
    Run first = timed(launcher(status));
    assertEquals(0, first.exitCode(), first.stdout());
    assertTrue(first.stdout().contains("Connected"), first.stdout());
    timed(plainJar(status));
    double[] launcherWall = new double[RUNS];
    double[] launcherCpu = new double[RUNS];
    double[] plainWall = new double[RUNS];
    double[] plainCpu = new double[RUNS];
    for (int i = 0; i < RUNS; i++) {
      Run lean = timed(launcher(status));
      assertEquals(0, lean.exitCode(), lean.stdout());
      Run plain = timed(plainJar(status));
      assertEquals(0, plain.exitCode(), plain.stdout());
      launcherWall[i] = lean.wallMillis();
      launcherCpu[i] = lean.cpuMillis();
      plainWall[i] = plain.wallMillis();
      plainCpu[i] = plain.cpuMillis();
    }
    double p50 = median(launcherWall);
    BenchmarkRow.record("60-cli-status", String.format(Locale.ROOT,
            "`./openshell status` against a running gateway (%d runs; the launcher's first run after the build, which trains the class-data archive: %.1f s)",
            RUNS, first.wallMillis() / 1000),
        "≤ 1 s", String.format(Locale.ROOT, "p50 %.0f ms wall (max %.0f), %.0f ms CPU", p50, max(launcherWall), median(launcherCpu)),
        String.format(Locale.ROOT, "the same jar as plain `java -jar`: p50 %.0f ms wall, %.0f ms CPU", median(plainWall), median(plainCpu)),
        BenchmarkRow.Verdict.of(p50 <= 1000));
  }

  @Test
  void sshProxyFromProcessStartToItsFirstConnectByte() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      listener.setSoTimeout(120_000);
      String gatewayUrl = "http://127.0.0.1:" + listener.getLocalPort();
      List<String> proxy = launcher("ssh-proxy", "--gateway", gatewayUrl, "--sandbox-id", "bench", "--token", "bench-token");
      List<String> floor = new ArrayList<>(List.of(Repo.java()));
      floor.addAll(io.openshell.client.ssh.ProxyLauncher.LEAN_JVM_FLAGS);
      floor.addAll(List.of("-cp", Path.of(FirstByteDialer.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString(),
          FirstByteDialer.class.getName(), Integer.toString(listener.getLocalPort())));
      firstByte(listener, proxy);
      firstByte(listener, floor);
      double[] proxyMillis = new double[RUNS];
      double[] floorMillis = new double[RUNS];
      for (int i = 0; i < RUNS; i++) {
        proxyMillis[i] = firstByte(listener, proxy);
        floorMillis[i] = firstByte(listener, floor);
      }
      double p50 = median(proxyMillis);
      BenchmarkRow.record("61-ssh-proxy-ready", String.format(Locale.ROOT,
              "`./openshell ssh-proxy` (token mode): process start → first CONNECT byte on a listening socket (%d runs)", RUNS),
          "≤ 300 ms", String.format(Locale.ROOT, "p50 %.0f ms (max %.0f)", p50, max(proxyMillis)),
          String.format(Locale.ROOT, "a bare JVM with the same flags that dials and writes one byte: p50 %.0f ms", median(floorMillis)),
          BenchmarkRow.Verdict.of(p50 <= 300));
    }
  }

  /** Milliseconds from starting {@code command} to the first byte it writes to {@code listener}. */
  private static double firstByte(ServerSocket listener, List<String> command) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    builder.environment().put("HOME", home.toString());
    long started = System.nanoTime();
    Process process = builder.start();
    try (Socket accepted = listener.accept()) {
      int first = accepted.getInputStream().read();
      double millis = (System.nanoTime() - started) / 1e6;
      assertTrue(first >= 0, "the process wrote nothing: " + command);
      return millis;
    } finally {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static double max(double[] values) {
    return Arrays.stream(values).max().orElseThrow();
  }
}
