package io.openshell.it;

import static io.openshell.it.Samples.median;
import static io.openshell.it.Samples.max;
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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CLI start-up (issue #10), as users run it: against the default gateway, which serves TLS with its own
 * local CA, and for comparison against a plaintext one. {@code openshell status} through the real
 * {@code ./openshell} launcher (its JVM flags and class-data archive): against a local gateway started by
 * {@code ./openshell gateway start} (TLS; the CLI finds the CA and its user certificate in its state dir,
 * no flags), against a {@code --disable-tls} gateway, and the same jar as plain {@code java -jar}, run by
 * turns. And {@code ssh-proxy}'s start → its first CONNECT byte on a listening socket: plaintext, over TLS
 * (the listener serves the local gateway's own server certificate, and the proxy verifies it with the
 * local CA it finds by itself, as the CLI's managed ssh config has it), beside a bare JVM that only dials
 * and writes a byte. Wall time of each run, and its CPU time (user + system, from bash's {@code times})
 * because on a shared machine the wall time mostly measures the queue for a core.
 */
class CliStartupBenchmark {
  private static final int RUNS = Integer.getInteger("bench.cli-runs", 20);
  private static final Pattern CHILD_TIMES = Pattern.compile("(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s\\s*$");

  private static GatewayProcess plaintextGateway;
  private static Path home;
  private static Run firstLauncherRun;

  @BeforeAll
  static void startGateways() throws Exception {
    Path state = Files.createTempDirectory("cli-startup-bench");
    home = Files.createDirectories(state.resolve("home"));
    // The first launcher run after a build trains the CLI's class-data archive (once per jar).
    firstLauncherRun = timed(launcher("--version"));
    assertEquals(0, firstLauncherRun.exitCode(), firstLauncherRun.stdout());
    // The default local gateway, started the way users start it: TLS with its CA under the CLI's state dir.
    Run started = timed(launcher("gateway", "start", "--port", "0"));
    assertEquals(0, started.exitCode(), started.stdout());
    assertTrue(started.stdout().contains("Gateway started: https://"), started.stdout());
    plaintextGateway = GatewayProcess.start(state.resolve("plaintext-gateway"), "sqlite::memory:");
    // Not while the gateways train their supervisor archives: those JVMs would compete for the cores.
    Awaits.require(java.time.Duration.ofSeconds(150), "the supervisor class-data archives",
        () -> plaintextGateway.logText().contains("supervisor class-data archive ready")
            && localGatewayLog().contains("supervisor class-data archive ready"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (home != null) timed(launcher("gateway", "stop"));
    if (plaintextGateway != null) plaintextGateway.close();
  }

  private static String localGatewayLog() {
    try {
      return Files.readString(localGatewayDir().resolve("gateway.log"));
    } catch (IOException e) {
      return "";
    }
  }

  private static Path localGatewayDir() {
    return home.resolve("state").resolve("openshell").resolve("gateway");
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
    userEnvironment(builder);
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

  /** The bench's own user: its home and state dir, no gateway or TLS files named by the environment. */
  private static void userEnvironment(ProcessBuilder builder) {
    for (String name : List.of("OPENSHELL_GATEWAY_ENDPOINT", "OPENSHELL_TLS_CA", "OPENSHELL_TLS_CERT", "OPENSHELL_TLS_KEY")) {
      builder.environment().remove(name);
    }
    builder.environment().put("HOME", home.toString());
    builder.environment().put("XDG_STATE_HOME", home.resolve("state").toString());
    builder.environment().put("XDG_CONFIG_HOME", home.resolve("config").toString());
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
  void statusThroughTheLauncherAgainstTheDefaultTlsGatewayAndAPlaintextOne() throws Exception {
    String[] tls = {"status"};
    String[] plaintext = {"status", "--gateway-endpoint", plaintextGateway.endpoint()};
    Run first = timed(launcher(tls));
    assertEquals(0, first.exitCode(), first.stdout());
    assertTrue(first.stdout().startsWith("Connected\n  gateway: https://"), first.stdout());
    timed(launcher(plaintext));
    timed(plainJar(plaintext));
    double[] tlsWall = new double[RUNS];
    double[] tlsCpu = new double[RUNS];
    double[] launcherWall = new double[RUNS];
    double[] launcherCpu = new double[RUNS];
    double[] plainWall = new double[RUNS];
    double[] plainCpu = new double[RUNS];
    for (int i = 0; i < RUNS; i++) {
      Run secure = timed(launcher(tls));
      assertEquals(0, secure.exitCode(), secure.stdout());
      assertTrue(secure.stdout().startsWith("Connected\n"), secure.stdout());
      Run lean = timed(launcher(plaintext));
      assertEquals(0, lean.exitCode(), lean.stdout());
      Run plain = timed(plainJar(plaintext));
      assertEquals(0, plain.exitCode(), plain.stdout());
      tlsWall[i] = secure.wallMillis();
      tlsCpu[i] = secure.cpuMillis();
      launcherWall[i] = lean.wallMillis();
      launcherCpu[i] = lean.cpuMillis();
      plainWall[i] = plain.wallMillis();
      plainCpu[i] = plain.cpuMillis();
    }
    double p50 = median(tlsWall);
    BenchmarkRow.record("60-cli-status", String.format(Locale.ROOT,
            "`./openshell status --gateway-endpoint http://…` against a plaintext gateway (%d runs; the comparison for 62; the launcher's first run after the build, which trains the class-data archive: %.1f s)",
            RUNS, firstLauncherRun.wallMillis() / 1000),
        "(62 carries the goal)", String.format(Locale.ROOT, "p50 %.0f ms wall (max %.0f), %.0f ms CPU", median(launcherWall), max(launcherWall),
            median(launcherCpu)),
        String.format(Locale.ROOT, "the same jar as plain `java -jar`: p50 %.0f ms wall, %.0f ms CPU", median(plainWall), median(plainCpu)),
        BenchmarkRow.Verdict.NO_GOAL);
    BenchmarkRow.record("62-cli-status-tls", String.format(Locale.ROOT,
            "`./openshell status` against the default local gateway (TLS, local CA, user certificate found by the CLI; %d runs)", RUNS),
        "≤ 1 s", String.format(Locale.ROOT, "p50 %.0f ms wall (max %.0f), %.0f ms CPU", p50, max(tlsWall), median(tlsCpu)),
        String.format(Locale.ROOT, "plaintext `status` by turns (60): p50 %.0f ms wall, %.0f ms CPU", median(launcherWall), median(launcherCpu)),
        BenchmarkRow.Verdict.of(p50 <= 1000));
  }

  @Test
  void sshProxyFromProcessStartToItsFirstConnectByte() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        ServerSocket tlsListener = gatewayCertificateListener()) {
      listener.setSoTimeout(120_000);
      tlsListener.setSoTimeout(120_000);
      List<String> proxy = launcher("ssh-proxy", "--gateway", "http://127.0.0.1:" + listener.getLocalPort(), "--sandbox-id", "bench",
          "--token", "bench-token");
      List<String> tlsProxy = launcher("ssh-proxy", "--gateway", "https://127.0.0.1:" + tlsListener.getLocalPort(), "--sandbox-id",
          "bench", "--token", "bench-token");
      List<String> floor = new ArrayList<>(List.of(Repo.java()));
      floor.addAll(io.openshell.client.ssh.ProxyLauncher.LEAN_JVM_FLAGS);
      floor.addAll(List.of("-cp", Path.of(FirstByteDialer.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString(),
          FirstByteDialer.class.getName(), Integer.toString(listener.getLocalPort())));
      firstByte(listener, proxy);
      firstByte(tlsListener, tlsProxy);
      firstByte(listener, floor);
      double[] proxyMillis = new double[RUNS];
      double[] tlsMillis = new double[RUNS];
      double[] floorMillis = new double[RUNS];
      for (int i = 0; i < RUNS; i++) {
        tlsMillis[i] = firstByte(tlsListener, tlsProxy);
        proxyMillis[i] = firstByte(listener, proxy);
        floorMillis[i] = firstByte(listener, floor);
      }
      double p50 = median(tlsMillis);
      BenchmarkRow.record("61-ssh-proxy-ready", String.format(Locale.ROOT,
              "`./openshell ssh-proxy` (token mode) to a plaintext tunnel: process start → first CONNECT byte on a listening socket (%d runs; the comparison for 63)",
              RUNS),
          "(63 carries the goal)", String.format(Locale.ROOT, "p50 %.0f ms (max %.0f)", median(proxyMillis), max(proxyMillis)),
          String.format(Locale.ROOT, "a bare JVM with the same flags that dials and writes one byte: p50 %.0f ms", median(floorMillis)),
          BenchmarkRow.Verdict.NO_GOAL);
      BenchmarkRow.record("63-ssh-proxy-ready-tls", String.format(Locale.ROOT,
              "`./openshell ssh-proxy` (token mode) to a TLS tunnel with the local gateway's certificate, verified with the local CA the proxy finds itself: process start → first CONNECT byte after the handshake (%d runs)",
              RUNS),
          "≤ 300 ms", String.format(Locale.ROOT, "p50 %.0f ms (max %.0f)", p50, max(tlsMillis)),
          String.format(Locale.ROOT, "plaintext by turns (61): p50 %.0f ms; the bare JVM: p50 %.0f ms", median(proxyMillis), median(floorMillis)),
          BenchmarkRow.Verdict.of(p50 <= 300));
    }
  }

  /**
   * A TLS listener with the local gateway's own server certificate and key (so the proxy's verification,
   * host name check included, is the one it does against the gateway), answering nothing: the benchmark
   * reads the first byte after the handshake.
   */
  private static ServerSocket gatewayCertificateListener() throws Exception {
    Path tls = localGatewayDir().resolve("tls");
    java.security.KeyStore keys = java.security.KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("server", io.openshell.gateway.tls.PemFiles.readPrivateKey(tls.resolve("server.key")), new char[0],
        io.openshell.gateway.tls.PemFiles.readCertificates(tls.resolve("server.crt")).toArray(java.security.cert.Certificate[]::new));
    javax.net.ssl.KeyManagerFactory keyManagers = javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, new char[0]);
    javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), null, null);
    return context.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
  }

  /** Milliseconds from starting {@code command} to the first byte it writes to {@code listener}. */
  private static double firstByte(ServerSocket listener, List<String> command) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    userEnvironment(builder);
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
}
