package io.openshell.gateway.compute.process;

import io.openshell.protocol.compute.v1.DriverSandbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How one sandbox's supervisor is started: the command line (setpriv for the parent-death signal,
 * bubblewrap when isolating), its environment, and what is written to its stdin: the supervisor
 * credential, which so never touches a file, an argument or the environment that the sandbox's own
 * programs could read or inherit. Pure: building a plan touches nothing.
 */
record LaunchPlan(List<String> command, Map<String, String> environment, Path workingDirectory, boolean isolated,
    String stdin) {

  /** Tells the supervisor to read its credential from stdin. */
  static final String CREDENTIAL_FROM_STDIN = "-";

  /** Never prints stdin: it holds the credential. */
  @Override
  public String toString() {
    return "LaunchPlan[command=" + command + ", environment=" + environment + ", workingDirectory=" + workingDirectory
        + ", isolated=" + isolated + "]";
  }

  static final String SANDBOX_SSH_SOCKET = "/run/openshell/ssh.sock";
  /** Where an isolated sandbox sees the gateway's CA (bound read-only; the private /run is the sandbox's own). */
  static final String SANDBOX_TLS_CA = "/run/openshell/tls/ca.crt";

  /** Where a plain (unisolated) sandbox's SSH socket lives: short, because Unix socket paths max out at 107 bytes. */
  static Path plainSocketPath(String sandboxId) {
    return Path.of("/tmp", "openshell-" + sandboxId, "ssh.sock");
  }

  static LaunchPlan of(DriverSandbox sandbox, Path workspace, ProcessDriverSettings settings, boolean isolate) {
    return of(sandbox, workspace, settings, isolate, java.util.Optional.empty());
  }

  /** With {@code classData}, the supervisor JVM maps that class-data archive (bound read-only into bubblewrap). */
  static LaunchPlan of(DriverSandbox sandbox, Path workspace, ProcessDriverSettings settings, boolean isolate,
      java.util.Optional<Path> classData) {
    String id = sandbox.getId();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("HOME", isolate ? "/sandbox" : workspace.toString());
    env.put("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin");
    env.put("TERM", "xterm-256color");
    env.put("USER", "sandbox");
    env.put("OPENSHELL_ENDPOINT", settings.gatewayEndpoint());
    env.put("OPENSHELL_SANDBOX_ID", id);
    env.put("OPENSHELL_SANDBOX", sandbox.getName());
    env.put("OPENSHELL_SSH_SOCKET_PATH", isolate ? SANDBOX_SSH_SOCKET : plainSocketPath(id).toString());
    String logLevel = sandbox.getSpec().getLogLevel();
    env.put("OPENSHELL_LOG_LEVEL", logLevel.isEmpty() ? "info" : logLevel);
    settings.tlsCa().ifPresent(ca -> env.put("OPENSHELL_TLS_CA", isolate ? SANDBOX_TLS_CA : ca.toString()));
    // Template env, then spec env: the sandbox's own spec wins.
    env.putAll(sandbox.getSpec().getTemplate().getEnvironmentMap());
    env.putAll(sandbox.getSpec().getEnvironmentMap());
    String credential = sandbox.getSpec().getSupervisorCredential();
    // After the spec's env: a spec cannot point the supervisor at a credential file of its choosing.
    if (credential.isEmpty()) {
      env.remove("OPENSHELL_SANDBOX_CREDENTIAL_FILE");
    } else {
      env.put("OPENSHELL_SANDBOX_CREDENTIAL_FILE", CREDENTIAL_FROM_STDIN);
    }

    List<String> supervisor = classData.map(archive -> SupervisorClassData.withArchive(settings.supervisorCommand(), archive))
        .orElse(settings.supervisorCommand());
    List<String> command = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--"));
    if (isolate) command.addAll(bwrap(sandbox, workspace, settings.supervisorCommand(), classData, settings.tlsCa()));
    command.addAll(supervisor);
    return new LaunchPlan(List.copyOf(command), Map.copyOf(env), isolate ? Path.of("/") : workspace, isolate,
        credential.isEmpty() ? "" : credential + "\n");
  }

  /** Own pid/ipc/uts/mount namespaces, host trees read-only, a writable /sandbox, private /tmp and /run. */
  private static List<String> bwrap(DriverSandbox sandbox, Path workspace, List<String> supervisorCommand,
      java.util.Optional<Path> classData, java.util.Optional<Path> tlsCa) {
    // Mounts apply in argument order: the private /tmp and /run come first, so a host tree bound
    // later (the JDK or the supervisor's jars may live under /tmp) is not hidden by them.
    List<String> args = new ArrayList<>(List.of("bwrap", "--die-with-parent", "--unshare-pid", "--unshare-ipc",
        "--unshare-uts", "--new-session", "--tmpfs", "/tmp", "--tmpfs", "/run", "--proc", "/proc", "--dev", "/dev"));
    for (String tree : List.of("/usr", "/etc", "/opt", "/var")) {
      if (Files.isDirectory(Path.of(tree))) args.addAll(List.of("--ro-bind", tree, tree));
    }
    for (String link : List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32")) {
      Path host = Path.of("/", link);
      if (Files.isSymbolicLink(host)) {
        try {
          args.addAll(List.of("--symlink", Files.readSymbolicLink(host).toString(), "/" + link));
        } catch (java.io.IOException e) {
          throw new IllegalStateException("cannot read " + host, e);
        }
      } else if (Files.isDirectory(host)) {
        args.addAll(List.of("--ro-bind", host.toString(), host.toString()));
      }
    }
    // The JVM and the supervisor's jars, wherever they live, read-only at the same paths.
    for (String part : supervisorCommand) {
      Path path = Path.of(part);
      if (!path.isAbsolute() || !Files.exists(path)) continue;
      Path tree = part.endsWith(".jar") ? path.getParent() : path.getParent().getParent();
      if (tree != null && !tree.startsWith("/usr")) args.addAll(List.of("--ro-bind", tree.toString(), tree.toString()));
    }
    classData.ifPresent(archive -> args.addAll(List.of("--ro-bind", archive.toString(), archive.toString())));
    tlsCa.ifPresent(ca -> args.addAll(List.of("--ro-bind", ca.toString(), SANDBOX_TLS_CA)));
    args.addAll(List.of("--dir", "/sandbox", "--bind", workspace.toString(), "/sandbox",
        "--hostname", hostname(sandbox.getName()), "--chdir", "/sandbox", "--"));
    return args;
  }

  private static String hostname(String name) {
    String cleaned = name.replaceAll("[^A-Za-z0-9-]", "-");
    return cleaned.isEmpty() ? "sandbox" : cleaned.substring(0, Math.min(63, cleaned.length()));
  }
}
