package io.openshell.supervisor.sshd;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** The real OpenSSH client, reaching a daemon's Unix socket through {@code socat} as ProxyCommand. */
final class OpenSshClient {
  record Result(int exitCode, String stdout, String stderr) {}

  // Blocking reads and writes of child processes: never on the (tiny, shared) common pool.
  private static final ExecutorService IO = Executors.newCachedThreadPool(runnable -> {
    Thread thread = new Thread(runnable, "openssh-client-io");
    thread.setDaemon(true);
    return thread;
  });

  private final Path socket;

  OpenSshClient(Path socket) {
    this.socket = socket;
  }

  List<String> options() {
    return List.of(
        "-F", "/dev/null",
        "-o", "ProxyCommand=socat - UNIX-CONNECT:" + socket,
        "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR",
        "-o", "BatchMode=yes");
  }

  ProcessBuilder ssh(String... args) {
    List<String> command = new ArrayList<>();
    command.add("ssh");
    command.addAll(options());
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }

  ProcessBuilder tool(String tool, String... args) {
    List<String> command = new ArrayList<>();
    command.add(tool);
    command.addAll(options());
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }

  Result run(ProcessBuilder builder, byte[] stdin, long timeoutSeconds) throws Exception {
    Process process = builder.start();
    CompletableFuture<byte[]> out = readAll(process.getInputStream());
    CompletableFuture<byte[]> err = readAll(process.getErrorStream());
    CompletableFuture.runAsync(() -> {
      try (var in = process.getOutputStream()) {
        if (stdin != null) in.write(stdin);
      } catch (IOException e) {
        // The command finished without reading everything.
      }
    }, IO);
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("timed out after " + timeoutSeconds + " s: " + builder.command());
    }
    return new Result(process.exitValue(),
        new String(out.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8),
        new String(err.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
  }

  Result exec(String command) throws Exception {
    return run(ssh("sandbox@sandbox", command), null, 60);
  }

  static CompletableFuture<byte[]> readAll(InputStream stream) {
    return CompletableFuture.supplyAsync(() -> {
      try (stream) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        stream.transferTo(bytes);
        return bytes.toByteArray();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, IO);
  }
}
