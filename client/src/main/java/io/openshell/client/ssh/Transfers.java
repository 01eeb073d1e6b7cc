package io.openshell.client.ssh;

import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Upload and download as tar streams over ssh: one connection, permissions and directories kept. */
public final class Transfers {
  public static final String DEFAULT_UPLOAD_DIR = "/sandbox";

  private Transfers() {}

  /** {@code local} (file or directory) into {@code sandboxDir}, created when missing; the exit code. */
  public static int upload(Environment environment, SshCommandLine ssh, Path local, String sandboxDir) {
    Path source = local.toAbsolutePath().normalize();
    if (!Files.exists(source)) throw new CliException("no such file or directory: " + local);
    if (source.getFileName() == null) throw new CliException("cannot upload the root directory");
    return SshProcess.pipeline(environment, SshCommandLine.localTarCreate(source.getParent(), source.getFileName().toString()),
        ssh.untarInto(sandboxDir));
  }

  /** {@code sandboxPath} (file or directory) into the local {@code dir}, created when missing; the exit code. */
  public static int download(Environment environment, SshCommandLine ssh, String sandboxPath, Path dir) {
    RemotePath remote = RemotePath.of(sandboxPath);
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new CliException("cannot create " + dir + ": " + e.getMessage());
    }
    return SshProcess.pipeline(environment, ssh.tarFrom(remote.dir(), remote.name()), SshCommandLine.localTarExtract(dir.toAbsolutePath()));
  }

  /** A path in the sandbox split for {@code tar -C dir name}; relative paths are relative to the login directory. */
  record RemotePath(String dir, String name) {
    static RemotePath of(String path) {
      String trimmed = path;
      while (trimmed.length() > 1 && trimmed.endsWith("/")) trimmed = trimmed.substring(0, trimmed.length() - 1);
      if (trimmed.isEmpty() || trimmed.equals("/")) throw new CliException("name a file or directory in the sandbox, not '" + path + "'");
      int slash = trimmed.lastIndexOf('/');
      if (slash < 0) return new RemotePath(".", trimmed);
      return new RemotePath(slash == 0 ? "/" : trimmed.substring(0, slash), trimmed.substring(slash + 1));
    }
  }
}
