package io.openshell.gateway.compute.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An application class-data archive (AppCDS) of the supervisor's classes. A supervisor JVM that maps
 * it skips loading, verifying and linking most of its classes and starts in about half the time, which
 * is most of a sandbox's create → READY. The archive is made once per supervisor command (JVM, options,
 * jar and its size and modification time) by a training run in the background — the supervisor started
 * with {@code openshell.supervisor.class-data-training}, dialling nothing, and archived at exit — and kept
 * in the driver's state directory. Until it is ready, and if training fails, supervisors start without it.
 * A JVM that cannot use an archive (replaced jar, other JVM) ignores it.
 */
final class SupervisorClassData {
  private static final Logger log = LoggerFactory.getLogger(SupervisorClassData.class);

  private final List<String> supervisorCommand;
  private final Path archive;
  private volatile boolean ready;

  private SupervisorClassData(List<String> supervisorCommand, Path archive) {
    this.supervisorCommand = List.copyOf(supervisorCommand);
    this.archive = archive;
  }

  /** {@code supervisorCommand} is {@code [java, jvm options…, -jar, jar]}. */
  static SupervisorClassData forCommand(Path directory, List<String> supervisorCommand) {
    return new SupervisorClassData(supervisorCommand, directory.resolve("supervisor-" + key(supervisorCommand) + ".jsa"));
  }

  /** The archive, once it exists. */
  Optional<Path> archive() {
    return ready ? Optional.of(archive) : Optional.empty();
  }

  /** Uses an archive made earlier, or makes one on {@code blocking} (a few seconds of one JVM). */
  CompletionStage<Optional<Path>> prepare(Executor blocking) {
    if (Files.isRegularFile(archive)) {
      ready = true;
      return CompletableFuture.completedFuture(Optional.of(archive));
    }
    return CompletableFuture.supplyAsync(this::train, blocking);
  }

  /** The JVM options that map {@code archive}, inserted after the JVM executable. */
  static List<String> withArchive(List<String> supervisorCommand, Path archive) {
    List<String> command = new ArrayList<>(supervisorCommand);
    // A mismatch (say a rebuilt jar) is not an error, only a slower start: keep it out of the sandbox log.
    command.addAll(1, List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto", "-Xlog:cds*=off"));
    return List.copyOf(command);
  }

  private Optional<Path> train() {
    long started = System.nanoTime();
    Path partial = archive.resolveSibling(archive.getFileName() + ".partial");
    Path scratch = null;
    try {
      Files.createDirectories(archive.getParent());
      Files.deleteIfExists(partial);
      // Under the system temp dir: a Unix socket path must stay short (the state dir may be deep).
      scratch = Files.createTempDirectory("openshell-class-data-training-");
      List<String> command = new ArrayList<>(supervisorCommand);
      command.addAll(1, List.of("-XX:ArchiveClassesAtExit=" + partial, "-Dopenshell.supervisor.class-data-training=on"));
      // Dies with the gateway: this thread waits for it, so the parent-death signal cannot fire early.
      command.addAll(0, List.of("setpriv", "--pdeathsig", "KILL", "--"));
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(scratch.resolve("training.log").toFile());
      // Port 1 on loopback: nothing listens, so the session's dial fails fast and is retried until exit.
      builder.environment().put("OPENSHELL_ENDPOINT", "http://127.0.0.1:1");
      builder.environment().put("OPENSHELL_SANDBOX_ID", "class-data-training");
      builder.environment().put("OPENSHELL_SSH_SOCKET_PATH", scratch.resolve("ssh").resolve("ssh.sock").toString());
      Process training = builder.start();
      if (!training.waitFor(120, TimeUnit.SECONDS)) {
        training.destroyForcibly();
        training.waitFor(10, TimeUnit.SECONDS);
        log.warn("supervisor class-data training did not finish in 120 s; sandboxes start without an archive");
        return Optional.empty();
      }
      if (training.exitValue() != 0 || !Files.isRegularFile(partial) || Files.size(partial) == 0) {
        log.warn("supervisor class-data training failed (exit {}); sandboxes start without an archive; log: {}",
            training.exitValue(), tail(scratch.resolve("training.log")));
        return Optional.empty();
      }
      Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      ready = true;
      log.info("supervisor class-data archive ready in {} ms: {}", (System.nanoTime() - started) / 1_000_000, archive);
      return Optional.of(archive);
    } catch (IOException e) {
      log.warn("supervisor class-data training failed: {}; sandboxes start without an archive", e.toString());
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } finally {
      if (scratch != null) deleteTree(scratch);
    }
  }

  private static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }

  private static void deleteTree(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException ignored) {
      // scratch space; a leftover directory is harmless
    }
  }

  /** Changes whenever the JVM, its options, or the jar (path, size, modification time) change. */
  private static String key(List<String> supervisorCommand) {
    StringBuilder identity = new StringBuilder();
    for (String part : supervisorCommand) {
      identity.append(part).append('\n');
      Path path = Path.of(part);
      if (path.isAbsolute() && Files.isRegularFile(path)) {
        try {
          identity.append(Files.size(path)).append(' ').append(Files.getLastModifiedTime(path).toMillis()).append('\n');
        } catch (IOException e) {
          identity.append("unreadable\n");
        }
      }
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(identity.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
