package io.openshell.client.forward;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * Background forwards, one file each under {@code <state>/forwards/} ({@code <port>-<sandbox>.forward}, its
 * ssh's output in {@code .log} beside it). A record keeps the ssh's pid and start time: a pid alone may name
 * another process by the time {@code forward stop} runs.
 */
public final class ForwardRecords {

  /** One background forward: which ssh process serves which listener for which sandbox. */
  public record Forward(String sandbox, ForwardSpec spec, long pid, Instant processStart) {

    /** The ssh process, if it is still the one this record describes. */
    public Optional<ProcessHandle> process() {
      return ProcessHandle.of(pid)
          .filter(ProcessHandle::isAlive)
          .filter(handle -> handle.info().startInstant().map(processStart::equals).orElse(false));
    }
  }

  private final Path dir;

  public ForwardRecords(Path dir) {
    this.dir = dir;
  }

  public Path logFile(String sandbox, int port) {
    return dir.resolve(baseName(sandbox, port) + ".log");
  }

  public void save(Forward forward) throws IOException {
    Files.createDirectories(dir);
    Properties stored = new Properties();
    stored.setProperty("sandbox", forward.sandbox());
    stored.setProperty("bind_address", forward.spec().bindAddress());
    stored.setProperty("port", Integer.toString(forward.spec().port()));
    stored.setProperty("pid", Long.toString(forward.pid()));
    stored.setProperty("process_start", forward.processStart().toString());
    try (Writer writer = Files.newBufferedWriter(file(forward.sandbox(), forward.spec().port()), StandardCharsets.UTF_8)) {
      stored.store(writer, "openshell forward");
    }
  }

  public Optional<Forward> load(String sandbox, int port) {
    return read(file(sandbox, port));
  }

  public List<Forward> all() {
    List<Forward> forwards = new ArrayList<>();
    if (!Files.isDirectory(dir)) return forwards;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.forward")) {
      for (Path file : files) read(file).ifPresent(forwards::add);
    } catch (IOException e) {
      // an unreadable directory lists as empty
    }
    forwards.sort(Comparator.comparing(Forward::sandbox).thenComparing(forward -> forward.spec().port()));
    return forwards;
  }

  public void delete(String sandbox, int port) throws IOException {
    Files.deleteIfExists(file(sandbox, port));
  }

  private Optional<Forward> read(Path file) {
    if (!Files.isRegularFile(file)) return Optional.empty();
    Properties stored = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      stored.load(reader);
      return Optional.of(new Forward(stored.getProperty("sandbox"),
          new ForwardSpec(stored.getProperty("bind_address"), Integer.parseInt(stored.getProperty("port"))),
          Long.parseLong(stored.getProperty("pid")), Instant.parse(stored.getProperty("process_start"))));
    } catch (IOException | RuntimeException unreadable) {
      return Optional.empty();
    }
  }

  private Path file(String sandbox, int port) {
    return dir.resolve(baseName(sandbox, port) + ".forward");
  }

  /** Port first, sandbox URL-encoded: any sandbox name makes a safe file name. */
  private static String baseName(String sandbox, int port) {
    return port + "-" + URLEncoder.encode(sandbox, StandardCharsets.UTF_8);
  }
}
