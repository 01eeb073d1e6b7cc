package io.openshell.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A real gateway JVM started from its jar, on a free port, logging to a file. */
final class GatewayProcess implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("Server listening on (\\S+):(\\d+)");

  final Process process;
  final int port;
  final Path log;

  private GatewayProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  static GatewayProcess start(Path stateDir, String dbUrl, String... extraFlags) throws Exception {
    List<String> flags = new java.util.ArrayList<>(List.of("--port", "0", "--db-url", dbUrl));
    flags.addAll(List.of(extraFlags));
    return start(stateDir, List.of(), flags);
  }

  /** With JVM options (e.g. -D settings) and extra gateway flags (e.g. --drivers vm). */
  static GatewayProcess start(Path stateDir, String dbUrl, List<String> jvmOptions, List<String> extraFlags) throws Exception {
    List<String> flags = new java.util.ArrayList<>(List.of("--port", "0", "--db-url", dbUrl));
    flags.addAll(extraFlags);
    return start(stateDir, jvmOptions, flags);
  }

  /** A gateway with these flags (besides --state-dir and --disable-tls, which are always given). */
  static GatewayProcess start(Path stateDir, List<String> flags) throws Exception {
    return start(stateDir, List.of(), flags);
  }

  private static GatewayProcess start(Path stateDir, List<String> jvmOptions, List<String> flags) throws Exception {
    Files.createDirectories(stateDir);
    Path log = stateDir.resolve("gateway-" + System.nanoTime() + ".log");
    List<String> command = new java.util.ArrayList<>(List.of(Repo.java()));
    command.addAll(jvmOptions);
    command.addAll(List.of("-jar", Repo.jar("gateway-actors", "openshell-gateway").toString(),
        "--state-dir", stateDir.toString(), "--disable-tls"));
    command.addAll(flags);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    Process process = builder.start();
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread pump = new Thread(() -> {
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
          var out = Files.newBufferedWriter(log)) {
        String line;
        while ((line = reader.readLine()) != null) {
          out.write(line);
          out.newLine();
          out.flush();
          Matcher m = LISTENING.matcher(line);
          if (m.find()) port.complete(Integer.parseInt(m.group(2)));
        }
      } catch (IOException ignored) {
        // the gateway ended
      }
      port.completeExceptionally(new IllegalStateException("gateway exited before listening"));
    }, "gateway-log-pump");
    pump.setDaemon(true);
    pump.start();
    try {
      return new GatewayProcess(process, port.get(90, TimeUnit.SECONDS), log);
    } catch (Exception e) {
      process.destroyForcibly();
      throw new AssertionError("gateway did not start: " + e.getMessage() + "\n" + Files.readString(log), e);
    }
  }

  String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  String logText() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  void killHard() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (!process.isAlive()) return;
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) killHard();
  }

  static Duration startupPatience() {
    return Duration.ofSeconds(90);
  }
}
