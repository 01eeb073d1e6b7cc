package io.openshell.client.gateway;

import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway this CLI runs on this machine: started in the background from the checkout's gateway
 * jar, remembered in its state dir ({@code gateway.pid}, {@code gateway.endpoint}, {@code gateway.log}). Unless
 * started with {@code --disable-tls} it speaks TLS with its own CA, whose files (and the CLI's user
 * certificate) it keeps in {@code <state>/tls}.
 */
public final class LocalGateway {
  /** The gateway's start line; the scheme in parentheses says whether it speaks TLS. */
  private static final Pattern LISTENING = Pattern.compile("Server listening on (\\S+):(\\d+) \\((https?)\\)");
  private static final Duration START_PATIENCE = Duration.ofSeconds(90);

  private final Environment environment;
  private final Path stateDir;

  public LocalGateway(Environment environment) {
    this.environment = environment;
    this.stateDir = environment.localGatewayStateDir();
  }

  public Path stateDir() {
    return stateDir;
  }

  public Path log() {
    return stateDir.resolve("gateway.log");
  }

  /** The recorded endpoint of a local gateway whose process is alive. */
  public Optional<String> running() {
    Optional<Long> pid = pid();
    if (pid.isEmpty() || !alive(pid.get())) return Optional.empty();
    try {
      String endpoint = Files.readString(stateDir.resolve("gateway.endpoint")).trim();
      return endpoint.isEmpty() ? Optional.empty() : Optional.of(endpoint);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  public Optional<Long> pid() {
    try {
      return Optional.of(Long.parseLong(Files.readString(stateDir.resolve("gateway.pid")).trim()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Starts a gateway in the background and returns its endpoint once it listens. */
  public String start(List<String> gatewayArgs) {
    try {
      Files.createDirectories(stateDir);
      Files.deleteIfExists(stateDir.resolve("gateway.endpoint"));
      List<String> command = new ArrayList<>();
      // Its own session: closing the terminal that started it does not take the gateway down.
      command.add("setsid");
      command.addAll(javaCommand(gatewayArgs));
      Files.writeString(log(), "", StandardCharsets.UTF_8);
      Process process = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .start();
      Files.writeString(stateDir.resolve("gateway.pid"), Long.toString(process.pid()));
      long deadline = System.nanoTime() + START_PATIENCE.toNanos();
      while (System.nanoTime() < deadline) {
        Matcher listening = LISTENING.matcher(Files.readString(log()));
        if (listening.find()) {
          String endpoint = listening.group(3) + "://" + listening.group(1) + ":" + listening.group(2);
          Files.writeString(stateDir.resolve("gateway.endpoint"), endpoint);
          return endpoint;
        }
        if (!process.isAlive()) {
          throw new CliException("the gateway exited before listening (status " + process.exitValue() + "); its log:\n" + tail());
        }
        // The gateway reports readiness only through its log line: poll it.
        LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
      }
      process.destroy();
      throw new CliException("the gateway did not start listening within " + START_PATIENCE.toSeconds() + " s; its log:\n" + tail());
    } catch (IOException e) {
      throw new CliException("cannot start the gateway: " + e.getMessage());
    }
  }

  /** Runs the gateway in this terminal until it exits. */
  public int runForeground(List<String> gatewayArgs) {
    try {
      Process process = new ProcessBuilder(javaCommand(gatewayArgs)).inheritIO().start();
      return process.waitFor();
    } catch (IOException e) {
      throw new CliException("cannot start the gateway: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 130;
    }
  }

  /** SIGTERM, then SIGKILL after a grace; false when no local gateway runs. */
  public boolean stop() {
    Optional<Long> pid = pid();
    if (pid.isEmpty() || !alive(pid.get())) return false;
    Optional<ProcessHandle> handle = ProcessHandle.of(pid.get());
    handle.ifPresent(ProcessHandle::destroy);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline && alive(pid.get())) LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
    if (alive(pid.get())) handle.ifPresent(ProcessHandle::destroyForcibly);
    try {
      Files.deleteIfExists(stateDir.resolve("gateway.pid"));
      Files.deleteIfExists(stateDir.resolve("gateway.endpoint"));
    } catch (IOException ignored) {
      // stale files are ignored by running() anyway
    }
    return true;
  }

  private List<String> javaCommand(List<String> gatewayArgs) {
    Path jar = gatewayJar();
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", jar.toString(), "--state-dir", stateDir.toString()));
    command.addAll(gatewayArgs);
    return command;
  }

  /** {@code <openshell.home>/gateway-actors/target/openshell-gateway.jar}; openshell.home is set by ./openshell. */
  Path gatewayJar() {
    String home = System.getProperty("openshell.home");
    List<Path> candidates = new ArrayList<>();
    if (home != null) candidates.add(Path.of(home));
    try {
      Path cliJar = Path.of(LocalGateway.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      for (Path dir = cliJar; dir != null; dir = dir.getParent()) candidates.add(dir);
    } catch (java.net.URISyntaxException ignored) {
      // fall through to the error below
    }
    for (Path dir : candidates) {
      Path jar = dir.resolve("gateway-actors").resolve("target").resolve("openshell-gateway.jar");
      if (Files.isRegularFile(jar)) return jar;
    }
    throw new CliException("cannot find the gateway jar: run ./openshell from the repository (it builds what is missing)");
  }

  private String tail() {
    try {
      List<String> lines = Files.readAllLines(log());
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && !zombie(pid);
  }

  private static boolean zombie(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("State:")) return line.contains("Z");
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }
}
