package io.openshell.it;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sandbox SSH end to end: the real CLI, a local gateway process, a supervisor (in bubblewrap when
 * present) with its SSH daemon, and the real OpenSSH {@code ssh}, {@code scp} and {@code sftp}
 * through {@code openshell ssh-proxy} and the gateway's /connect/ssh tunnel.
 */
class SshE2EIT {
  private static final String NAME = "ssh-e2e";
  private static Cli cli;
  private static Path config;
  private static String sandboxId;

  @BeforeAll
  static void createSandbox() throws Exception {
    cli = new Cli(Files.createTempDirectory("openshell-ssh-e2e"));
    Cli.Result created = cli.run("sandbox", "create", "--name", NAME, "--", "echo", "smoke-ok");
    assertEquals(0, created.exitCode(), created.toString());
    assertTrue(created.stdout().lines().anyMatch(l -> l.equals("Created sandbox: " + NAME)), created.toString());
    assertTrue(created.stdout().lines().anyMatch(l -> l.equals("smoke-ok")), created.toString());

    Cli.Result block = cli.run("sandbox", "ssh-config", NAME);
    assertEquals(0, block.exitCode(), block.toString());
    assertTrue(block.stdout().startsWith("Host openshell-" + NAME + "\n"), block.stdout());
    config = cli.home.resolve("ssh_config");
    Files.writeString(config, block.stdout());
    try (GatewayClient client = GatewayClient.ofLocalGateway(cli)) {
      sandboxId = client.get(NAME).getId();
    }
  }

  @AfterAll
  static void stopGateway() throws Exception {
    if (cli != null) cli.run("gateway", "stop");
  }

  @Test
  void exitCodesPropagateAndNoKeepDeletes() throws Exception {
    Cli.Result seven = cli.run("sandbox", "create", "--name", "exit-seven", "--no-keep", "--", "sh", "-c", "exit 7");
    assertEquals(7, seven.exitCode(), seven.toString());
    assertFalse(cli.run("sandbox", "list", "--names").stdout().lines().anyMatch("exit-seven"::equals),
        "--no-keep deletes the sandbox after the command");
  }

  @Test
  void sshRunsACommand() throws Exception {
    Run hi = ssh("echo hi; echo err >&2; exit 3");
    assertEquals("hi\n", hi.stdout);
    assertEquals("err\n", hi.stderr);
    assertEquals(3, hi.exit);
  }

  @Test
  void scpAndSftpMove50MebibytesBothWays() throws Exception {
    Path local = cli.home.resolve("payload.bin");
    byte[] bytes = new byte[50 * 1024 * 1024];
    new Random(7).nextBytes(bytes);
    Files.write(local, bytes);
    String sha = sha256(bytes);

    Run up = run(120, "scp", "-F", config.toString(), local.toString(), "openshell-" + NAME + ":/sandbox/payload.bin");
    assertEquals(0, up.exit, up.stderr);
    assertEquals(sha + "  /sandbox/payload.bin\n", ssh("sha256sum /sandbox/payload.bin").stdout);
    Path down = cli.home.resolve("payload-down.bin");
    Run back = run(120, "scp", "-F", config.toString(), "openshell-" + NAME + ":/sandbox/payload.bin", down.toString());
    assertEquals(0, back.exit, back.stderr);
    assertEquals(sha, sha256(Files.readAllBytes(down)));

    Path batch = cli.home.resolve("sftp-batch");
    Files.writeString(batch, "put " + local + " /sandbox/sftp.bin\nget /sandbox/sftp.bin " + cli.home.resolve("sftp-down.bin") + "\n");
    Run sftp = run(120, "sftp", "-F", config.toString(), "-b", batch.toString(), "openshell-" + NAME);
    assertEquals(0, sftp.exit, sftp.stderr);
    assertEquals(sha, sha256(Files.readAllBytes(cli.home.resolve("sftp-down.bin"))));
  }

  @Test
  void localForwardReachesALoopbackServerInsideAndNothingElse() throws Exception {
    int inside = freePort();
    // A web server started inside the sandbox, on its loopback, with the JDK the sandbox already has.
    String server = "import com.sun.net.httpserver.HttpServer; import java.net.*;"
        + " class Http { public static void main(String[] a) throws Exception {"
        + " HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(a[0])), 0);"
        + " s.createContext(\"/\", x -> { byte[] b = \"body-from-the-sandbox\".getBytes(); x.sendResponseHeaders(200, b.length);"
        + " x.getResponseBody().write(b); x.close(); }); s.start(); } }";
    Run write = run(60, List.of("ssh", "-F", config.toString(), "openshell-" + NAME, "cat > /sandbox/Http.java"), server);
    assertEquals(0, write.exit, write.stderr);
    Run started = ssh("nohup " + Repo.java() + " /sandbox/Http.java " + inside + " >/sandbox/http.log 2>&1 & echo started");
    assertEquals("started\n", started.stdout, started.stderr);

    int local = freePort();
    Process forward = withCliEnvironment(new ProcessBuilder("ssh", "-F", config.toString(), "-N", "-o", "ExitOnForwardFailure=yes",
        "-L", "127.0.0.1:" + local + ":127.0.0.1:" + inside, "openshell-" + NAME).redirectErrorStream(true)).start();
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      String[] body = {null};
      Awaits.require(Duration.ofSeconds(60), "the forwarded server answers", () -> {
        try {
          body[0] = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + local + "/")).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.ofString()).body();
          return true;
        } catch (IOException e) {
          return false;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      });
      assertEquals("body-from-the-sandbox", body[0]);

      // The same server through a non-loopback address of this machine: refused by the daemon.
      String outside = nonLoopbackAddress();
      Run refused = run(60, List.of("ssh", "-F", config.toString(), "-W", outside + ":" + inside, "openshell-" + NAME),
          "GET / HTTP/1.0\r\n\r\n");
      assertNotEquals(0, refused.exit);
      assertFalse(refused.stdout.contains("body-from-the-sandbox"));
      assertTrue(refused.stderr.contains("stdio forwarding failed"), refused.stderr);
    } finally {
      forward.destroy();
      forward.waitFor(10, TimeUnit.SECONDS);
      ssh("pkill -f /sandbox/Http.java || true");
    }
  }

  @Test
  void connectUnderTmuxGetsAPtyThatFollowsResizes() throws Exception {
    String socket = "openshell-e2e-" + ProcessHandle.current().pid();
    List<String> env = new ArrayList<>();
    cli.env.forEach((k, v) -> env.add(k + "=" + v));
    String connect = "env " + String.join(" ", env) + " " + Repo.root().resolve("openshell") + " sandbox connect " + NAME;
    assertEquals(0, run(30, "tmux", "-L", socket, "new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", connect).exit);
    try {
      Awaits.require(Duration.ofSeconds(60), "a shell prompt in the sandbox", () -> {
        sendKeys(socket, "echo READY-$((6*7))");
        return pane(socket).contains("READY-42");
      });
      sendKeys(socket, "clear; tty; echo TERM=$TERM; stty size");
      String before = paneSize(socket);
      Awaits.require(Duration.ofSeconds(20), "tty, TERM and size " + before, () -> pane(socket).contains("TERM=xterm-256color")
          && pane(socket).matches("(?s).*/dev/pts/\\d+.*") && pane(socket).contains("\n" + before + "\n"));
      assertEquals(0, run(30, "tmux", "-L", socket, "resize-window", "-t", "e2e", "-x", "100", "-y", "30").exit);
      String after = paneSize(socket);
      assertNotEquals(before, after);
      sendKeys(socket, "clear; stty size");
      Awaits.require(Duration.ofSeconds(20), "the new size " + after + " in\n" + pane(socket), () -> pane(socket).contains("\n" + after + "\n")
          || pane(socket).startsWith(after + "\n"));
    } finally {
      run(30, "tmux", "-L", socket, "kill-server");
    }
  }

  @Test
  void threeParallelSessionsShareTheSupervisorConnection() throws Exception {
    long started = System.nanoTime();
    List<CompletableFuture<Run>> runs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      runs.add(CompletableFuture.supplyAsync(() -> {
        try {
          return ssh("sleep 4; echo done");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, Runnable -> new Thread(Runnable).start()));
    }
    for (CompletableFuture<Run> run : runs) {
      Run finished = run.get(60, TimeUnit.SECONDS);
      assertEquals("done\n", finished.stdout, finished.stderr);
    }
    long tookMs = Duration.ofNanos(System.nanoTime() - started).toMillis();
    System.out.printf("3 parallel ssh sleep 4 took %d ms%n", tookMs);
    assertTrue(tookMs < 8000, "3 parallel sleeps took " + tookMs + " ms");
  }

  @Test
  void moreParallelSessionsThanOneTokenAllowsAllConnect() throws Exception {
    // The ssh-config block's name mode shares one cached token (3 connections at most per token):
    // the fourth and fifth proxies get 429 and mint their own.
    List<CompletableFuture<Run>> runs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      runs.add(CompletableFuture.supplyAsync(() -> {
        try {
          return ssh("sleep 2; echo done");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, runnable -> new Thread(runnable).start()));
    }
    for (CompletableFuture<Run> run : runs) {
      Run finished = run.get(60, TimeUnit.SECONDS);
      assertEquals("done\n", finished.stdout, finished.stderr);
    }
  }

  @Test
  void killingTheClientLeavesNoProcessBehind() throws Exception {
    Process client = withCliEnvironment(new ProcessBuilder("ssh", "-F", config.toString(), "openshell-" + NAME, "sleep 1000.75")).start();
    Awaits.require(Duration.ofSeconds(30), "sleep runs in the sandbox", () -> !sleepers().isEmpty());
    List<Long> pids = sleepers();
    client.destroyForcibly();
    long killedAt = System.nanoTime();
    assertTrue(Processes.allGoneWithin(pids, Duration.ofSeconds(5)), "sleep outlived its client: " + pids);
    System.out.printf("sleep gone %d ms after the ssh client was killed%n", (System.nanoTime() - killedAt) / 1_000_000);
  }

  /** The ProxyCommand finds the gateway and its session tokens through the CLI's HOME and XDG dirs. */
  private static ProcessBuilder withCliEnvironment(ProcessBuilder builder) {
    builder.environment().putAll(cli.env);
    return builder;
  }

  private static List<Long> sleepers() {
    return Processes.withSandboxId(sandboxId).stream()
        .filter(pid -> Processes.cmdline(pid).trim().equals("sleep 1000.75"))
        .filter(Processes::alive)
        .toList();
  }

  private static void sendKeys(String socket, String keys) {
    try {
      run(30, "tmux", "-L", socket, "send-keys", "-t", "e2e", keys, "Enter");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** "rows cols" of the pane, as {@code stty size} prints them. */
  private static String paneSize(String socket) throws Exception {
    return run(30, "tmux", "-L", socket, "display-message", "-p", "-t", "e2e", "#{pane_height} #{pane_width}").stdout.trim();
  }

  private static String pane(String socket) {
    try {
      return run(30, "tmux", "-L", socket, "capture-pane", "-p", "-t", "e2e").stdout;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  record Run(int exit, String stdout, String stderr) {}

  private static Run ssh(String command) throws Exception {
    return run(60, "ssh", "-F", config.toString(), "openshell-" + NAME, command);
  }

  private static Run run(int timeoutSeconds, String... command) throws Exception {
    return run(timeoutSeconds, List.of(command), null);
  }

  private static Run run(int timeoutSeconds, List<String> command, String stdin) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(cli.env);
    if (stdin == null) builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process process = builder.start();
    if (stdin != null) {
      try (var in = process.getOutputStream()) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()), r -> new Thread(r).start());
    CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()), r -> new Thread(r).start());
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("timed out: " + command);
    }
    return new Run(process.exitValue(), new String(out.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8),
        new String(err.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
  }

  private static byte[] readAll(java.io.InputStream stream) {
    try (stream) {
      return stream.readAllBytes();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static String nonLoopbackAddress() throws java.net.SocketException {
    var interfaces = java.net.NetworkInterface.getNetworkInterfaces();
    while (interfaces.hasMoreElements()) {
      var addresses = interfaces.nextElement().getInetAddresses();
      while (addresses.hasMoreElements()) {
        var address = addresses.nextElement();
        if (address instanceof java.net.Inet4Address && !address.isLoopbackAddress()) return address.getHostAddress();
      }
    }
    throw new AssertionError("this test needs a non-loopback IPv4 address");
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
