package io.openshell.supervisor.sshd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sandbox SSH daemon on its Unix socket, driven by the real OpenSSH client, scp and sftp. */
class SandboxSshDaemonIT {
  @TempDir Path temp;
  private Path socket;
  private SandboxSshDaemon daemon;
  private OpenSshClient client;

  @BeforeEach
  void start() throws IOException {
    socket = temp.resolve("run").resolve("openshell").resolve("ssh.sock");
    daemon = SandboxSshDaemon.start(settings(socket));
    client = new OpenSshClient(socket);
  }

  @AfterEach
  void stop() {
    if (daemon != null) daemon.close();
  }

  static SshDaemonSettings settings(Path socket) {
    return SshDaemonSettings.fromConfig(socket, ConfigFactory.load().getConfig("openshell.supervisor.ssh"));
  }

  @Test
  void socketIsPrivateAndTheOnlyListener() throws IOException {
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    try (var listing = Files.list(socket.getParent())) {
      assertEquals(1, listing.count(), "no staging file is left next to the socket");
    }
  }

  @Test
  void staleSocketIsReplacedAndAForeignFileRefused() throws Exception {
    daemon.close();
    daemon = null;
    // A socket left behind by a crashed run.
    try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      stale.bind(UnixDomainSocketAddress.of(socket));
    }
    assertTrue(Files.exists(socket));
    daemon = SandboxSshDaemon.start(settings(socket));
    assertEquals("ok\n", client.exec("echo ok").stdout());
    daemon.close();
    daemon = null;
    assertFalse(Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS), "stopping removes the socket");

    Files.writeString(socket, "not a socket");
    IOException refused = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
        () -> SandboxSshDaemon.start(settings(socket)));
    assertTrue(refused.getMessage().contains("is not a socket"), refused.getMessage());
    assertEquals("not a socket", Files.readString(socket), "someone else's file is left alone");
  }

  @Test
  void sharedDirectoryIsRefused() {
    IOException refused = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
        () -> SandboxSshDaemon.start(settings(Path.of("/tmp/openshell-test-" + System.nanoTime() + ".sock"))));
    assertTrue(refused.getMessage().startsWith("SSH server did not start listening: SSH socket directory /tmp is shared"),
        refused.getMessage());
  }

  @Test
  void execSeparatesStreamsAndReturnsTheExitCode() throws Exception {
    OpenSshClient.Result result = client.exec("echo out; echo err >&2; exit 7");
    assertEquals("out\n", result.stdout());
    assertEquals("err\n", result.stderr());
    assertEquals(7, result.exitCode());
  }

  @Test
  void execRunsALoginBashWithTheRequestedEnvironment() throws Exception {
    OpenSshClient.Result result = client.run(client.ssh("-o", "SetEnv=OPENSHELL_TEST_VALUE=from-client",
        "sandbox@sandbox", "echo $0 $OPENSHELL_TEST_VALUE; shopt -q login_shell && echo login; [ -t 0 ] || echo no-tty"), null, 60);
    assertEquals("/bin/bash from-client\nlogin\nno-tty\n", result.stdout(), result.stderr());
  }

  @Test
  void stdinIsDeliveredBeforeEof() throws Exception {
    byte[] input = new byte[100 * 1024];
    new Random(1).nextBytes(input);
    OpenSshClient.Result result = client.run(client.ssh("sandbox@sandbox", "sha256sum"), input, 60);
    assertEquals(sha256(input) + "  -\n", result.stdout());
  }

  @Test
  void fullDuplexBulkDataDoesNotStall() throws Exception {
    Path input = temp.resolve("input.bin");
    byte[] bytes = new byte[50 * 1024 * 1024];
    new Random(2).nextBytes(bytes);
    Files.write(input, bytes);
    Path output = temp.resolve("output.bin");
    // cat echoes while it is still being fed: 50 MB in and 50 MB out at the same time.
    ProcessBuilder cat = client.ssh("sandbox@sandbox", "cat").redirectInput(input.toFile()).redirectOutput(output.toFile());
    Process process = cat.start();
    assertTrue(process.waitFor(120, TimeUnit.SECONDS), "cat of 50 MB through ssh did not finish");
    assertEquals(0, process.exitValue());
    assertEquals(sha256(bytes), sha256(Files.readAllBytes(output)));
  }

  @Test
  void aStalledReaderGetsEveryByteAndTheExitCode() throws Exception {
    // The reader stalls 3 s, then drains: the daemon must wait on the SSH window, not give up.
    String ssh = String.join(" ", client.ssh("sandbox@sandbox", "'head -c 50331648 /dev/zero; exit 5'").command()
        .stream().map(a -> a.contains(" ") && !a.startsWith("'") ? "'" + a + "'" : a).toList());
    OpenSshClient.Result result = client.run(new ProcessBuilder("bash", "-c",
        "set -o pipefail; " + ssh + " | (sleep 3; wc -c)"), null, 60);
    assertEquals("50331648", result.stdout().trim(), result.stderr());
    assertEquals(5, result.exitCode(), result.stderr());
  }

  @Test
  void ptyShellHasTheClientsTermAndFollowsWindowChanges() throws Exception {
    ProcessBuilder builder = client.ssh("-tt", "-o", "SetEnv=TERM=xterm-256color", "sandbox@sandbox",
        "tty; echo TERM=$TERM; stty size; [ -t 0 ] && echo on-a-tty");
    OpenSshClient.Result result = client.run(builder, null, 60);
    assertTrue(result.stdout().matches("(?s)/dev/pts/\\d+\r\nTERM=xterm-256color\r\n\\d+ \\d+\r\non-a-tty\r\n"), result.stdout());
  }

  @Test
  void scpAndSftpMoveFilesBothWays() throws Exception {
    Path sandboxDir = Files.createDirectories(temp.resolve("sandbox-side"));
    Path local = temp.resolve("up.bin");
    byte[] bytes = new byte[5 * 1024 * 1024];
    new Random(3).nextBytes(bytes);
    Files.write(local, bytes);

    assertEquals(0, client.run(client.tool("scp", local.toString(), "sandbox@sandbox:" + sandboxDir.resolve("up.bin")), null, 60).exitCode());
    assertEquals(sha256(bytes), sha256(Files.readAllBytes(sandboxDir.resolve("up.bin"))));
    Path down = temp.resolve("down.bin");
    assertEquals(0, client.run(client.tool("scp", "sandbox@sandbox:" + sandboxDir.resolve("up.bin"), down.toString()), null, 60).exitCode());
    assertEquals(sha256(bytes), sha256(Files.readAllBytes(down)));

    Path batch = temp.resolve("batch");
    Files.writeString(batch, "put " + local + " " + sandboxDir.resolve("sftp.bin") + "\nget " + sandboxDir.resolve("sftp.bin") + " "
        + temp.resolve("sftp-down.bin") + "\n");
    OpenSshClient.Result sftp = client.run(client.tool("sftp", "-b", batch.toString(), "sandbox@sandbox"), null, 60);
    assertEquals(0, sftp.exitCode(), sftp.stderr());
    assertEquals(sha256(bytes), sha256(Files.readAllBytes(temp.resolve("sftp-down.bin"))));
  }

  @Test
  void directTcpipReachesLoopbackOnly() throws Exception {
    // Listening on every interface: a refusal of the non-loopback address is the daemon's filter,
    // not an unreachable port.
    HttpServer http = HttpServer.create(new InetSocketAddress(0), 0);
    http.createContext("/", exchange -> {
      byte[] body = "hello from inside".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    http.start();
    try {
      int port = http.getAddress().getPort();
      byte[] request = "GET / HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
      OpenSshClient.Result allowed = client.run(client.ssh("-W", "127.0.0.1:" + port, "sandbox@sandbox"), request, 60);
      assertTrue(allowed.stdout().endsWith("hello from inside"), allowed.stdout() + allowed.stderr());

      OpenSshClient.Result byName = client.run(client.ssh("-W", "localhost:" + port, "sandbox@sandbox"), request, 60);
      assertTrue(byName.stdout().endsWith("hello from inside"), byName.stdout() + byName.stderr());

      String outside = firstNonLoopbackAddress();
      OpenSshClient.Result refused = client.run(client.ssh("-W", outside + ":" + port, "sandbox@sandbox"), request, 60);
      assertNotEquals(0, refused.exitCode());
      assertTrue(refused.stderr().contains("stdio forwarding failed"), refused.stderr());
      assertFalse(refused.stdout().contains("hello"));
    } finally {
      http.stop(0);
    }
  }

  @Test
  void killedClientLeavesNoProcessBehindButNohupSurvives() throws Exception {
    // nohup: a process that asked to outlive its session does.
    OpenSshClient.Result detached = client.exec("nohup sleep 1000 >/dev/null 2>&1 & echo $!");
    long nohupPid = Long.parseLong(detached.stdout().trim());

    Process ssh = client.ssh("sandbox@sandbox", "echo $$; exec sleep 1000").start();
    String line = new java.io.BufferedReader(new java.io.InputStreamReader(ssh.getInputStream(), StandardCharsets.US_ASCII)).readLine();
    long sleepPid = Long.parseLong(line.trim());
    assertTrue(alive(sleepPid));
    ssh.destroyForcibly();
    // Hung up at once and killed after the 2 s grace; the deadline is generous because a loaded 2-core
    // machine delays both, and the check polls without spinning (a spin took the core the daemon needed).
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (alive(sleepPid) && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
    }
    assertFalse(alive(sleepPid), "sleep outlived its client by 30 s");
    try {
      assertTrue(alive(nohupPid), "nohup'd process was killed");
    } finally {
      ProcessSignals.signal(nohupPid, ProcessSignals.SIGKILL);
    }
  }

  static boolean alive(long pid) {
    try {
      for (String statusLine : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (statusLine.startsWith("State:")) return !statusLine.contains("Z");
      }
      return false;
    } catch (IOException e) {
      return false;
    }
  }

  /** An address of this machine that is not loopback (the HTTP server listens there too). */
  private static String firstNonLoopbackAddress() throws java.net.SocketException {
    var interfaces = java.net.NetworkInterface.getNetworkInterfaces();
    while (interfaces.hasMoreElements()) {
      var addresses = interfaces.nextElement().getInetAddresses();
      while (addresses.hasMoreElements()) {
        InetAddress address = addresses.nextElement();
        if (address instanceof java.net.Inet4Address && !address.isLoopbackAddress()) return address.getHostAddress();
      }
    }
    throw new AssertionError("this test needs a non-loopback IPv4 address on the machine");
  }

  static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
