package io.openshell.gateway.exec;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.protocol.v1.*;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ExecSandbox through the real gateway, relay and an SSH server standing in for the sandbox's daemon. */
class ExecIT {
  private static TestGateway gateway;
  private static SshRelaySupervisor supervisor;
  private static String sandboxId;

  @BeforeAll
  static void start() throws Exception {
    gateway = TestGateway.start("sqlite::memory:", Files.createTempDirectory("exec-it"), new AcceptingDriver(), "");
    sandboxId = create("exec");
    supervisor = new SshRelaySupervisor(gateway.client, gateway.system, sandboxId, gateway.credential(sandboxId));
    awaitReady("exec");
  }

  @AfterAll
  static void stop() throws Exception {
    supervisor.close();
    gateway.close();
  }

  private static String create(String name) throws Exception {
    return gateway.client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance()).setName(name).build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getSandbox().getId();
  }

  private static void awaitReady(String name) {
    gateway.awaitReady(name);
  }

  record Outcome(String stdout, String stderr, int exit, List<ExecSandboxEvent> events) {}

  private static CompletableFuture<List<ExecSandboxEvent>> events(ExecSandboxRequest request) {
    return gateway.client.execSandbox(request).runWith(Sink.seq(), gateway.system).toCompletableFuture();
  }

  private static Outcome exec(ExecSandboxRequest.Builder request) throws Exception {
    List<ExecSandboxEvent> events = events(request.build()).get(60, TimeUnit.SECONDS);
    StringBuilder out = new StringBuilder();
    StringBuilder err = new StringBuilder();
    for (ExecSandboxEvent e : events) {
      if (e.hasStdout()) out.append(e.getStdout().getData().toStringUtf8());
      if (e.hasStderr()) err.append(e.getStderr().getData().toStringUtf8());
    }
    ExecSandboxEvent last = events.get(events.size() - 1);
    assertTrue(last.hasExit(), "the last event is always Exit");
    assertEquals(1, events.stream().filter(ExecSandboxEvent::hasExit).count());
    return new Outcome(out.toString(), err.toString(), last.getExit().getExitCode(), events);
  }

  private static Status failure(ExecSandboxRequest.Builder request) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> events(request.build()).get(60, TimeUnit.SECONDS));
    return Status.fromThrowable(e.getCause());
  }

  private static ExecSandboxRequest.Builder command(String... args) {
    return ExecSandboxRequest.newBuilder().setSandboxId(sandboxId).addAllCommand(List.of(args));
  }

  @Test
  void aSlowReaderGetsEveryByteAndTheExitStatus() throws Exception {
    long total = 96L << 20;
    java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicInteger exit = new java.util.concurrent.atomic.AtomicInteger(-1);
    // 8 MiB/s: twelve seconds of output held back by the client, far beyond any buffer on the way
    // and longer than the 10 s exit-status wait (which must start only when the output has ended).
    gateway.client.execSandbox(command("head", "-c", Long.toString(total), "/dev/zero").build())
        .throttle(8 << 20, java.time.Duration.ofSeconds(1), 1 << 20,
            event -> Math.max(1, event.getStdout().getData().size()), org.apache.pekko.stream.ThrottleMode.shaping())
        .runWith(Sink.foreach(event -> {
          received.addAndGet(event.getStdout().getData().size());
          if (event.hasExit()) exit.set(event.getExit().getExitCode());
        }), gateway.system)
        .toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertEquals(total, received.get());
    assertEquals(0, exit.get());
  }

  @Test
  void stdoutStderrAndTheExitCodeComeBackSeparately() throws Exception {
    Outcome outcome = exec(command("sh", "-c", "echo out; echo err >&2; exit 3"));
    assertEquals("out\n", outcome.stdout());
    assertEquals("err\n", outcome.stderr());
    assertEquals(3, outcome.exit());
  }

  @Test
  void stdinIsDeliveredThenClosed() throws Exception {
    assertEquals("abc", exec(command("cat").setStdin(com.google.protobuf.ByteString.copyFromUtf8("abc"))).stdout());
  }

  @Test
  void environmentAndWorkdirAreApplied() throws Exception {
    Outcome outcome = exec(command("sh", "-c", "echo \"$GREETING\"; pwd").putEnvironment("GREETING", "hello world").setWorkdir("/tmp"));
    assertEquals("hello world\n/tmp\n", outcome.stdout());
  }

  @Test
  void aTimeoutEndsWithExit124Promptly() throws Exception {
    long started = System.nanoTime();
    assertEquals(124, exec(command("sleep", "30").setTimeoutSeconds(1)).exit());
    assertTrue(System.nanoTime() - started < Duration.ofSeconds(3).toNanos(), "exit 124 within 3 s");
  }

  @Test
  void validationAndStateErrorsFollowUpstream() throws Exception {
    Status invalid = failure(ExecSandboxRequest.newBuilder().addCommand("true"));
    assertEquals(Status.Code.INVALID_ARGUMENT, invalid.getCode());
    assertEquals("sandbox_id is required", invalid.getDescription());
    Status missing = failure(ExecSandboxRequest.newBuilder().setSandboxId("00000000-0000-4000-8000-000000000000").addCommand("true"));
    assertEquals(Status.Code.NOT_FOUND, missing.getCode());
    String notReady = create("exec-not-ready");
    Status precondition = failure(ExecSandboxRequest.newBuilder().setSandboxId(notReady).addCommand("true"));
    assertEquals(Status.Code.FAILED_PRECONDITION, precondition.getCode());
    assertEquals("sandbox is not ready", precondition.getDescription());
    Status stdin = failure(command("cat").setStdin(com.google.protobuf.ByteString.copyFrom(new byte[4 * 1024 * 1024 + 1])));
    assertEquals(Status.Code.INVALID_ARGUMENT, stdin.getCode());
  }

  @Test
  void aRelayThatDiesMidExecFailsUnavailableInsteadOfHanging() throws Exception {
    String id = create("exec-dies");
    SshRelaySupervisor doomed = new SshRelaySupervisor(gateway.client, gateway.system, id, gateway.credential(id));
    awaitReady("exec-dies");
    var running = events(ExecSandboxRequest.newBuilder().setSandboxId(id).addCommand("sleep").addCommand("30").build());
    TestProbe.create(gateway.system).awaitAssert(Duration.ofSeconds(20), () -> {
      assertTrue(doomed.server.getActiveSessions().size() > 0);
      return null;
    });
    doomed.killRelays();
    ExecutionException e = assertThrows(ExecutionException.class, () -> running.get(45, TimeUnit.SECONDS));
    Status status = Status.fromThrowable(e.getCause());
    assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());
    assertTrue(status.getDescription().startsWith("supervisor relay failed"), status.getDescription());
    doomed.close();
  }
}
