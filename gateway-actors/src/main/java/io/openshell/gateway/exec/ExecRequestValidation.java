package io.openshell.gateway.exec;

import io.grpc.Status;
import io.openshell.gateway.sandbox.SandboxProblem;
import io.openshell.protocol.v1.ExecSandboxRequest;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * ExecSandbox's stateless checks, in upstream's order: sandbox_id, command, env keys, then sizes and
 * control characters. (Existence and readiness come after, from the Sandbox actor.)
 */
public final class ExecRequestValidation {
  private ExecRequestValidation() {}

  /** Upstream's limits; each is the default of a setting (see {@link ExecLimits}). */
  public record ExecLimits(int maxCommandBytes, int maxArgs, int maxArgBytes, int maxWorkdirBytes) {
    public static final ExecLimits UPSTREAM = new ExecLimits(256 * 1024, 1024, 32768, 4096);
  }

  private static final Pattern ENV_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  public static Optional<SandboxProblem> check(ExecSandboxRequest request, ExecLimits limits) {
    if (request.getSandboxId().isEmpty()) return invalid("sandbox_id is required");
    if (request.getCommandCount() == 0) return invalid("command is required");
    for (String key : request.getEnvironmentMap().keySet()) {
      if (!ENV_KEY.matcher(key).matches()) {
        return invalid("environment key '" + printable(key) + "' is invalid: use letters, digits and '_', not starting with a digit");
      }
    }
    if (request.getCommandCount() > limits.maxArgs()) {
      return invalid("command has " + request.getCommandCount() + " arguments; at most " + limits.maxArgs() + " are allowed");
    }
    for (int i = 0; i < request.getCommandCount(); i++) {
      String arg = request.getCommand(i);
      int bytes = arg.getBytes(StandardCharsets.UTF_8).length;
      if (bytes > limits.maxArgBytes()) {
        return invalid("command argument " + i + " is " + bytes + " bytes; at most " + limits.maxArgBytes() + " are allowed");
      }
      Optional<SandboxProblem> control = controlCharacters("command argument " + i, arg);
      if (control.isPresent()) return control;
    }
    for (Map.Entry<String, String> env : request.getEnvironmentMap().entrySet()) {
      int bytes = env.getValue().getBytes(StandardCharsets.UTF_8).length;
      if (bytes > limits.maxArgBytes()) {
        return invalid("environment value of " + env.getKey() + " is " + bytes + " bytes; at most " + limits.maxArgBytes() + " are allowed");
      }
      if (env.getValue().indexOf('\0') >= 0) return invalid("environment value of " + env.getKey() + " contains a NUL byte");
    }
    String workdir = request.getWorkdir();
    int workdirBytes = workdir.getBytes(StandardCharsets.UTF_8).length;
    if (workdirBytes > limits.maxWorkdirBytes()) {
      return invalid("workdir is " + workdirBytes + " bytes; at most " + limits.maxWorkdirBytes() + " are allowed");
    }
    Optional<SandboxProblem> control = controlCharacters("workdir", workdir);
    if (control.isPresent()) return control;
    int commandBytes = ShellCommand.assemble(request.getCommandList(), request.getEnvironmentMap(), workdir)
        .getBytes(StandardCharsets.UTF_8).length;
    if (commandBytes > limits.maxCommandBytes()) {
      return invalid("assembled command is " + commandBytes + " bytes; at most " + limits.maxCommandBytes() + " are allowed");
    }
    return Optional.empty();
  }

  private static Optional<SandboxProblem> controlCharacters(String what, String value) {
    if (value.indexOf('\0') >= 0) return invalid(what + " contains a NUL byte");
    if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
      return invalid(what + " contains a newline or carriage return; pass multi-line scripts through stdin");
    }
    return Optional.empty();
  }

  private static String printable(String value) {
    return value.replaceAll("\\p{Cntrl}", "?");
  }

  private static Optional<SandboxProblem> invalid(String message) {
    return Optional.of(new SandboxProblem(Status.Code.INVALID_ARGUMENT, message));
  }
}
