package io.openshell.it;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.openshell.protocol.v1.ExecSandboxRequest;
import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxPhase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ExecSandbox end to end: a real gateway process, a real supervisor (in bubblewrap when present)
 * with its SSH daemon, the relay between them, and the gateway's SSH client on the relay.
 */
class ExecE2EIT {
  private static GatewayProcess gateway;
  private static GatewayClient client;
  private static Sandbox sandbox;

  @BeforeAll
  static void startGatewayAndSandbox() throws Exception {
    Path state = Files.createTempDirectory("openshell-exec-e2e");
    gateway = GatewayProcess.start(state, "sqlite:" + state.resolve("gateway.db"));
    client = new GatewayClient(gateway.port);
    sandbox = client.create("exec-e2e");
  }

  /** One test kills the supervisor; whichever runs next waits for its restart. */
  @BeforeEach
  void awaitReady() {
    Awaits.require(GatewayProcess.startupPatience(), "sandbox READY",
        () -> client.get("exec-e2e").getPhase() == SandboxPhase.SANDBOX_PHASE_READY);
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) client.close();
    if (gateway != null) gateway.close();
  }

  private static ExecSandboxRequest.Builder command(String... argv) {
    return ExecSandboxRequest.newBuilder().setSandboxId(sandbox.getId()).addAllCommand(List.of(argv));
  }

  @Test
  void stdoutStderrAndExitCodeArriveSeparately() {
    GatewayClient.ExecOutcome outcome = client.exec(command("sh", "-c", "echo out; echo err >&2; exit 3").build(), Duration.ofSeconds(60));
    assertNull(outcome.failure(), () -> String.valueOf(outcome.failure()));
    assertEquals("out\n", outcome.stdout());
    assertEquals("err\n", outcome.stderr());
    assertEquals(3, outcome.exitCode());
  }

  @Test
  void stdinIsDeliveredThenEof() {
    GatewayClient.ExecOutcome outcome = client.exec(command("cat").setStdin(ByteString.copyFromUtf8("abc")).build(), Duration.ofSeconds(60));
    assertEquals("abc", outcome.stdout(), outcome.toString());
    assertEquals(0, outcome.exitCode());
  }

  @Test
  void workdirEnvironmentAndTtyAreHonoured() {
    GatewayClient.ExecOutcome outcome = client.exec(command("sh", "-c", "pwd; echo $GREETING; [ -t 1 ] && echo tty")
        .setWorkdir("/tmp").putEnvironment("GREETING", "it's here").setTty(true).build(), Duration.ofSeconds(60));
    assertEquals("/tmp\r\nit's here\r\ntty\r\n", outcome.stdout(), outcome.toString());
    assertEquals(0, outcome.exitCode());
  }

  @Test
  void hundredMebibytesOfStdoutArriveIntact() {
    // The sandbox hashes what it writes; the client hashes what it received.
    GatewayClient.ExecOutcome outcome = client.exec(
        command("bash", "-c", "head -c 100M /dev/urandom | tee >(sha256sum >&2)").build(), Duration.ofSeconds(240));
    assertNull(outcome.failure(), () -> String.valueOf(outcome.failure()));
    assertEquals(100L * 1024 * 1024, outcome.stdoutBytes());
    assertEquals(outcome.stdoutSha256() + "  -", outcome.stderr().trim());
    assertEquals(0, outcome.exitCode());
  }

  @Test
  void timeoutGives124WithinThreeSecondsAndLeavesNoProcess() {
    long started = System.nanoTime();
    GatewayClient.ExecOutcome outcome = client.exec(command("sleep", "30.5").setTimeoutSeconds(1).build(), Duration.ofSeconds(30));
    long tookMs = Duration.ofNanos(System.nanoTime() - started).toMillis();
    assertEquals(124, outcome.exitCode(), outcome.toString());
    assertTrue(tookMs < 3000, "exit 124 took " + tookMs + " ms");
    assertTrue(Awaits.poll(Duration.ofSeconds(5), () -> sleepers("30.5").isEmpty()),
        "sleep left in the sandbox: " + sleepers("30.5"));
  }

  @Test
  void supervisorDeathFailsTheExecUnavailableAndTheNextExecWorks() throws Exception {
    long supervisor = Processes.supervisorJvm(sandbox.getId());
    var running = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> client.exec(command("sleep", "30.25").build(), Duration.ofSeconds(60)));
    Awaits.require(Duration.ofSeconds(30), "the command runs in the sandbox", () -> !sleepers("30.25").isEmpty());
    long killedAt = System.nanoTime();
    Processes.kill(supervisor, "KILL");
    GatewayClient.ExecOutcome outcome = running.get(60, java.util.concurrent.TimeUnit.SECONDS);
    long tookMs = Duration.ofNanos(System.nanoTime() - killedAt).toMillis();
    assertNull(outcome.exitCode(), "no made-up exit code: " + outcome);
    assertEquals(Status.Code.UNAVAILABLE, Status.fromThrowable(outcome.failure()).getCode(), outcome.toString());
    assertTrue(tookMs < 45_000, "failed after " + tookMs + " ms");
    System.out.printf("exec failed UNAVAILABLE %d ms after the supervisor was killed: %s%n", tookMs, outcome.failure().getMessage());

    Awaits.require(Duration.ofSeconds(90), "READY again after the supervisor restarted",
        () -> client.get("exec-e2e").getPhase() == SandboxPhase.SANDBOX_PHASE_READY);
    GatewayClient.ExecOutcome again = client.exec(command("echo", "back").build(), Duration.ofSeconds(60));
    assertEquals("back\n", again.stdout(), again.toString());
    assertEquals(0, again.exitCode());
  }

  @Test
  void cliExecStreamsToTheRightDescriptorsAndExitsWithTheCode() throws Exception {
    Cli.Result result = cli().run("sandbox", "exec", "-n", "exec-e2e", "--", "sh", "-c", "echo out; echo err >&2; exit 3");
    assertEquals(3, result.exitCode(), result.toString());
    assertEquals("out\n", result.stdout(), result.toString());
    assertEquals("err\n", result.stderr(), result.toString());

    Cli.Result env = cli().run("sandbox", "exec", "-n", "exec-e2e", "--workdir", "/tmp", "--env", "K=v w", "--", "sh", "-c", "pwd; echo $K");
    assertEquals("/tmp\nv w\n", env.stdout(), env.toString());
  }

  @Test
  void cliExecPassesStdinUpTo4MebibytesAndRefusesMore() throws Exception {
    Cli cli = cli();
    Path abc = Files.writeString(cli.home.resolve("abc.txt"), "abc");
    Cli.Result cat = cli.runWithInput(abc, "sandbox", "exec", "-n", "exec-e2e", "--", "cat");
    assertEquals("abc", cat.stdout(), cat.toString());
    assertEquals(0, cat.exitCode());

    Path exactly = cli.home.resolve("exactly.bin");
    Files.write(exactly, new byte[4 * 1024 * 1024]);
    Cli.Result counted = cli.runWithInput(exactly, "sandbox", "exec", "-n", "exec-e2e", "--", "wc", "-c");
    assertEquals("4194304", counted.stdout().trim(), counted.toString());

    Path over = cli.home.resolve("over.bin");
    Files.write(over, new byte[4 * 1024 * 1024 + 1]);
    Cli.Result refused = cli.runWithInput(over, "sandbox", "exec", "-n", "exec-e2e", "--", "wc", "-c");
    assertEquals(2, refused.exitCode(), refused.toString());
    assertTrue(refused.stderr().startsWith("error: stdin is larger than 4194304 bytes (4 MiB)"), refused.toString());
    assertEquals("", refused.stdout());
  }

  @Test
  void cliExecTimeoutExits124() throws Exception {
    long started = System.nanoTime();
    Cli.Result result = cli().run("sandbox", "exec", "-n", "exec-e2e", "--timeout", "1", "--", "sleep", "30.125");
    long tookMs = Duration.ofNanos(System.nanoTime() - started).toMillis();
    assertEquals(124, result.exitCode(), result.toString());
    System.out.printf("openshell sandbox exec --timeout 1 -- sleep 30 exited 124 after %d ms (CLI start included)%n", tookMs);
    assertTrue(Awaits.poll(Duration.ofSeconds(5), () -> sleepers("30.125").isEmpty()), "sleep left: " + sleepers("30.125"));
  }

  private static Cli cli() throws java.io.IOException {
    Cli cli = new Cli(Files.createTempDirectory("openshell-exec-cli"));
    cli.env.put("OPENSHELL_GATEWAY_ENDPOINT", gateway.endpoint());
    return cli;
  }

  /** Processes of this sandbox running {@code sleep <marker>}. */
  private static List<Long> sleepers(String marker) {
    return Processes.withSandboxId(sandbox.getId()).stream()
        .filter(pid -> Processes.cmdline(pid).trim().equals("sleep " + marker))
        .filter(Processes::alive)
        .toList();
  }
}
