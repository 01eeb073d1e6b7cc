package io.openshell.client.ssh;

import java.io.IOException;
import io.openshell.client.connection.Environment;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The ssh config the CLI manages: {@code Host openshell-<name>} blocks in
 * {@code ${XDG_CONFIG_HOME:-~/.config}/openshell/ssh_config}, and one {@code Include} of that file in
 * {@code ~/.ssh/config}, so plain {@code ssh openshell-<name>} (and editors' remote-SSH) reach a sandbox.
 * The rules are pure functions over the files' text; {@link #install} applies them.
 */
public final class ManagedSshConfig {
  public static final String ALIAS_PREFIX = "openshell-";
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");

  private final Path managedFile;
  private final Path userConfig;
  private final String userHome;

  public ManagedSshConfig(Path managedFile, Path userConfig, String userHome) {
    this.managedFile = managedFile;
    this.userConfig = userConfig;
    this.userHome = userHome;
  }

  /** {@code <config dir>/ssh_config}, included from {@code ~/.ssh/config}. */
  public static ManagedSshConfig of(Environment environment) {
    return new ManagedSshConfig(environment.configDir().resolve("ssh_config"),
        Path.of(environment.userHome(), ".ssh", "config"), environment.userHome());
  }

  public Path managedFile() {
    return managedFile;
  }

  public static String alias(String sandboxName) {
    return ALIAS_PREFIX + sandboxName;
  }

  /** The block {@code sandbox ssh-config} prints: the options of every ssh invocation, as config lines. */
  public static String hostBlock(String sandboxName, SshCommandLine ssh) {
    StringBuilder block = new StringBuilder("Host ").append(alias(sandboxName)).append('\n');
    block.append("    User ").append(SshCommandLine.USER).append('\n');
    for (Map.Entry<String, String> option : SshCommandLine.OPTIONS) {
      block.append("    ").append(option.getKey()).append(' ').append(option.getValue()).append('\n');
    }
    block.append("    ProxyCommand ").append(SshCommandLine.escapePercent(ssh.proxyCommand())).append('\n');
    return block.toString();
  }

  /** Writes the block into the managed file (replacing any for the same host) and includes that file from ~/.ssh/config. */
  public void install(String host, String block) throws IOException {
    write(managedFile, upsert(read(managedFile), host, block));
    String user = read(userConfig);
    String included = withInclude(user, managedFile, userHome);
    if (!included.equals(user)) write(userConfig, included);
  }

  /** Drops the host's block from the managed file, if there is one; ~/.ssh/config is left alone. */
  public void remove(String host) throws IOException {
    if (!Files.isRegularFile(managedFile)) return;
    String before = read(managedFile);
    String after = upsert(before, host, null);
    if (!after.equals(before)) write(managedFile, after);
  }

  /**
   * {@code config} with exactly one block for {@code host}: the new block replaces the first existing one
   * (where it stood) and any duplicates go; with none it is appended. A null block removes the host.
   * A block runs from its {@code Host}/{@code Match} line to the next one.
   */
  static String upsert(String config, String host, String block) {
    List<String> out = new ArrayList<>();
    boolean placed = false;
    boolean skipping = false;
    boolean replacing = false;
    int blanksAtEnd = 0;
    for (String line : lines(config)) {
      String keyword = keyword(line);
      if (keyword.equals("host") || keyword.equals("match")) {
        // The blank lines that separated the replaced block from the next one keep separating it.
        if (replacing) for (int i = 0; i < blanksAtEnd; i++) out.add("");
        skipping = keyword.equals("host") && arguments(line).equals(List.of(host));
        replacing = skipping && !placed && block != null;
        blanksAtEnd = 0;
        if (replacing) {
          out.addAll(lines(block));
          placed = true;
        }
      }
      if (!skipping) out.add(line);
      else blanksAtEnd = line.isBlank() ? blanksAtEnd + 1 : 0;
    }
    if (!placed && block != null) {
      if (!out.isEmpty() && !out.get(out.size() - 1).isBlank()) out.add("");
      out.addAll(lines(block));
    }
    return text(out);
  }

  /**
   * {@code config} including {@code managed} once: unchanged when an Include already names it, else an
   * Include line right before the first Host/Match line (an Include inside a block would apply only to
   * that block's hosts), or at the end when there is none.
   */
  static String withInclude(String config, Path managed, String userHome) {
    List<String> lines = lines(config);
    String target = managed.toAbsolutePath().normalize().toString();
    for (String line : lines) {
      if (keyword(line).equals("include") && arguments(line).stream().anyMatch(path -> expandHome(path, userHome).equals(target))) return config;
    }
    String include = "Include " + (target.contains(" ") ? "\"" + target + "\"" : target);
    List<String> out = new ArrayList<>();
    boolean placed = false;
    for (String line : lines) {
      String keyword = keyword(line);
      if (!placed && (keyword.equals("host") || keyword.equals("match"))) {
        out.add(include);
        out.add("");
        placed = true;
      }
      out.add(line);
    }
    if (!placed) {
      if (!out.isEmpty() && !out.get(out.size() - 1).isBlank()) out.add("");
      out.add(include);
    }
    return text(out);
  }

  private static String expandHome(String includePath, String userHome) {
    return includePath.startsWith("~/") ? userHome + includePath.substring(1) : includePath;
  }

  /** The line's keyword, lower-case ("" for blank lines and comments); ssh allows {@code Key value} and {@code Key=value}. */
  private static String keyword(String line) {
    String trimmed = line.strip();
    if (trimmed.isEmpty() || trimmed.startsWith("#")) return "";
    int end = 0;
    while (end < trimmed.length() && !Character.isWhitespace(trimmed.charAt(end)) && trimmed.charAt(end) != '=') end++;
    return trimmed.substring(0, end).toLowerCase(Locale.ROOT);
  }

  /** The line's arguments after the keyword, double quotes removed. */
  private static List<String> arguments(String line) {
    String rest = line.strip().substring(keyword(line).length()).strip();
    if (rest.startsWith("=")) rest = rest.substring(1).strip();
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    boolean quoted = false;
    for (char c : rest.toCharArray()) {
      if (c == '"') {
        quoted = !quoted;
      } else if (Character.isWhitespace(c) && !quoted) {
        if (word.length() > 0) words.add(word.toString());
        word.setLength(0);
      } else {
        word.append(c);
      }
    }
    if (word.length() > 0) words.add(word.toString());
    return words;
  }

  private static List<String> lines(String text) {
    List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
    // The newline that ends the last line does not start another.
    if (lines.get(lines.size() - 1).isEmpty()) lines.remove(lines.size() - 1);
    return lines;
  }

  private static String text(List<String> lines) {
    return lines.isEmpty() ? "" : String.join("\n", lines) + "\n";
  }

  private static String read(Path file) throws IOException {
    return Files.isRegularFile(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
  }

  /**
   * Replaces the file in one rename; a new file (and its directory) is private, an existing one keeps its
   * mode, and a symlinked config (dotfile managers) is written through, not replaced by a plain file.
   */
  private static void write(Path target, String text) throws IOException {
    Path file = Files.exists(target) ? target.toRealPath() : target;
    Path dir = file.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
    Set<PosixFilePermission> mode = Files.exists(file) ? Files.getPosixFilePermissions(file) : OWNER_ONLY_FILE;
    Path temporary = Files.createTempFile(dir, "." + file.getFileName() + "-", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
    try {
      Files.writeString(temporary, text, StandardCharsets.UTF_8);
      Files.setPosixFilePermissions(temporary, mode);
      try {
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temporary);
    }
  }
}
