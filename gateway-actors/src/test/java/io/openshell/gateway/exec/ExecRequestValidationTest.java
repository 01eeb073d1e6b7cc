package io.openshell.gateway.exec;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import io.openshell.gateway.sandbox.SandboxProblem;
import io.openshell.protocol.v1.ExecSandboxRequest;
import java.util.Collections;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ExecRequestValidationTest {
  private static final ExecRequestValidation.ExecLimits LIMITS = ExecRequestValidation.ExecLimits.UPSTREAM;

  private static ExecSandboxRequest.Builder valid() {
    return ExecSandboxRequest.newBuilder().setSandboxId("s").addCommand("true");
  }

  private static String message(ExecSandboxRequest.Builder request) {
    Optional<SandboxProblem> problem = ExecRequestValidation.check(request.build(), LIMITS);
    assertTrue(problem.isPresent(), "expected a rejection");
    assertEquals(Status.Code.INVALID_ARGUMENT, problem.get().code());
    return problem.get().getMessage();
  }

  private static void accepted(ExecSandboxRequest.Builder request) {
    assertEquals(Optional.empty(), ExecRequestValidation.check(request.build(), LIMITS));
  }

  @Test
  void checksComeInUpstreamOrder() {
    assertEquals("sandbox_id is required", message(ExecSandboxRequest.newBuilder().putEnvironment("1BAD", "x")));
    assertEquals("command is required", message(ExecSandboxRequest.newBuilder().setSandboxId("s").putEnvironment("1BAD", "x")));
    assertTrue(message(valid().putEnvironment("1BAD", "x").addCommand("a\nb")).startsWith("environment key '1BAD' is invalid"));
  }

  @Test
  void argumentCountIsLimitedAt1024() {
    accepted(ExecSandboxRequest.newBuilder().setSandboxId("s").addAllCommand(Collections.nCopies(1024, "a")));
    assertEquals("command has 1025 arguments; at most 1024 are allowed",
        message(ExecSandboxRequest.newBuilder().setSandboxId("s").addAllCommand(Collections.nCopies(1025, "a"))));
  }

  @Test
  void argumentAndEnvValueSizeIsLimitedAt32768Bytes() {
    accepted(valid().addCommand("a".repeat(32768)));
    assertEquals("command argument 1 is 32769 bytes; at most 32768 are allowed", message(valid().addCommand("a".repeat(32769))));
    accepted(valid().putEnvironment("K", "v".repeat(32768)));
    assertEquals("environment value of K is 32769 bytes; at most 32768 are allowed", message(valid().putEnvironment("K", "v".repeat(32769))));
  }

  @Test
  void workdirIsLimitedAt4096Bytes() {
    accepted(valid().setWorkdir("/" + "d".repeat(4095)));
    assertEquals("workdir is 4097 bytes; at most 4096 are allowed", message(valid().setWorkdir("/" + "d".repeat(4096))));
  }

  @Test
  void assembledCommandIsLimitedAt256KiB() {
    // 9 args of 32768 bytes assemble to more than 256 KiB.
    assertTrue(message(ExecSandboxRequest.newBuilder().setSandboxId("s").addAllCommand(Collections.nCopies(9, "a".repeat(32768))))
        .startsWith("assembled command is "));
  }

  @Test
  void envKeysMustBeShellNames() {
    accepted(valid().putEnvironment("_OK_1", "x"));
    assertTrue(message(valid().putEnvironment("A-B", "x")).startsWith("environment key 'A-B' is invalid"));
    assertTrue(message(valid().putEnvironment("", "x")).startsWith("environment key '' is invalid"));
  }

  @Test
  void nulNewlineAndCarriageReturnAreRejected() {
    assertEquals("command argument 1 contains a NUL byte", message(valid().addCommand("a\0b")));
    assertTrue(message(valid().addCommand("a\nb")).startsWith("command argument 1 contains a newline"));
    assertTrue(message(valid().addCommand("a\rb")).startsWith("command argument 1 contains a newline"));
    assertTrue(message(valid().setWorkdir("/tmp\n")).startsWith("workdir contains a newline"));
    assertEquals("workdir contains a NUL byte", message(valid().setWorkdir("/t\0")));
  }
}
