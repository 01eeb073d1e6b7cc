package io.openshell.client.ssh;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManagedSshConfigTest {
  private static final SshCommandLine SSH = SshCommandLine.forSandbox(List.of("/repo/openshell", "ssh-proxy"), "local", "my-box");
  private static final Path MANAGED = Path.of("/home/me/.config/openshell/ssh_config");

  @TempDir
  Path home;

  private static String block(String name, String marker) {
    return "Host openshell-" + name + "\n    # " + marker + "\n    User sandbox\n";
  }

  @Test
  void theHostBlockCarriesTheSshOptionsAndTheNameModeProxy() {
    assertEquals("""
        Host openshell-my-box
            User sandbox
            StrictHostKeyChecking no
            UserKnownHostsFile /dev/null
            GlobalKnownHostsFile /dev/null
            LogLevel ERROR
            ServerAliveInterval 15
            ServerAliveCountMax 3
            ProxyCommand /repo/openshell ssh-proxy --gateway-name local --name my-box
        """, ManagedSshConfig.hostBlock("my-box", SSH));
  }

  @Test
  void upsertAppendsReplacesInPlaceAndNeverDuplicates() {
    String empty = ManagedSshConfig.upsert("", "openshell-a", block("a", "v1"));
    assertEquals(block("a", "v1"), empty);

    String two = ManagedSshConfig.upsert(empty, "openshell-b", block("b", "v1"));
    assertEquals(block("a", "v1") + "\n" + block("b", "v1"), two);

    String replaced = ManagedSshConfig.upsert(two, "openshell-a", block("a", "v2"));
    assertEquals(block("a", "v2") + "\n" + block("b", "v1"), replaced, "replaced where it stood, b untouched");
    assertEquals(replaced, ManagedSshConfig.upsert(replaced, "openshell-a", block("a", "v2")), "idempotent");

    String duplicated = block("a", "old1") + block("c", "v1") + block("a", "old2");
    assertEquals(block("a", "new") + block("c", "v1"), ManagedSshConfig.upsert(duplicated, "openshell-a", block("a", "new")));
  }

  @Test
  void upsertMatchesTheWholeHostLineOnly() {
    String config = "Host openshell-a openshell-b\n    User x\nHost openshell-ab\n    User y\nMatch host openshell-a\n    User z\n";
    String upserted = ManagedSshConfig.upsert(config, "openshell-a", block("a", "mine"));
    assertEquals(config + "\n" + block("a", "mine"), upserted);
  }

  @Test
  void removeDropsOnlyThatHost() {
    String config = block("a", "v1") + "\n" + block("b", "v1");
    assertEquals(block("a", "v1") + "\n", ManagedSshConfig.upsert(config, "openshell-b", null));
    assertEquals(config, ManagedSshConfig.upsert(config, "openshell-zzz", null));
  }

  @Test
  void theIncludeGoesOnceBeforeTheFirstHostOrMatch() {
    String user = "# mine\nServerAliveInterval 30\n\nHost github.com\n    User git\nHost *\n    IdentitiesOnly yes\n";
    String included = ManagedSshConfig.withInclude(user, MANAGED, "/home/me");
    assertEquals("# mine\nServerAliveInterval 30\n\nInclude /home/me/.config/openshell/ssh_config\n\n"
        + "Host github.com\n    User git\nHost *\n    IdentitiesOnly yes\n", included);
    assertEquals(included, ManagedSshConfig.withInclude(included, MANAGED, "/home/me"), "only once");

    assertEquals("Include /home/me/.config/openshell/ssh_config\n\nMatch all\n",
        ManagedSshConfig.withInclude("Match all\n", MANAGED, "/home/me"));
    assertEquals("Include /home/me/.config/openshell/ssh_config\n", ManagedSshConfig.withInclude("", MANAGED, "/home/me"));
    assertEquals("User me\n\nInclude /home/me/.config/openshell/ssh_config\n",
        ManagedSshConfig.withInclude("User me\n", MANAGED, "/home/me"));
  }

  @Test
  void anIncludeTheUserWroteThemselvesCounts() {
    for (String existing : List.of("include ~/.config/openshell/ssh_config\n", "Include=\"/home/me/.config/openshell/ssh_config\"\n",
        "Include ~/.ssh/other /home/me/.config/openshell/ssh_config\n")) {
      String config = existing + "Host x\n";
      assertEquals(config, ManagedSshConfig.withInclude(config, MANAGED, "/home/me"), existing);
    }
  }

  @Test
  void installWritesPrivateFilesOnceAndSshResolvesTheAlias() throws Exception {
    Path managed = home.resolve(".config/openshell/ssh_config");
    Path userConfig = home.resolve(".ssh/config");
    ManagedSshConfig config = new ManagedSshConfig(managed, userConfig, home.toString());
    String block = ManagedSshConfig.hostBlock("my-box", SSH);

    config.install("openshell-my-box", block);
    config.install("openshell-my-box", block);

    assertEquals(block, Files.readString(managed));
    assertEquals("Include " + managed + "\n", Files.readString(userConfig));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(managed)));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(userConfig)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(userConfig.getParent())));

    String resolved = SshCommandLineTest.sshG(List.of("ssh", "-F", userConfig.toString(), "-G", "openshell-my-box"));
    assertTrue(resolved.contains("proxycommand /repo/openshell ssh-proxy --gateway-name local --name my-box"), resolved);
    assertTrue(resolved.contains("user sandbox"), resolved);

    config.remove("openshell-my-box");
    assertEquals("", Files.readString(managed));
  }

  @Test
  void aSymlinkedUserConfigIsWrittenThrough() throws Exception {
    Path real = home.resolve("dotfiles/ssh_config");
    Files.createDirectories(real.getParent());
    Files.writeString(real, "Host x\n");
    Path userConfig = home.resolve(".ssh/config");
    Files.createDirectories(userConfig.getParent());
    Files.createSymbolicLink(userConfig, real);

    new ManagedSshConfig(home.resolve("managed"), userConfig, home.toString()).install("openshell-a", block("a", "v"));

    assertTrue(Files.isSymbolicLink(userConfig));
    assertTrue(Files.readString(real).startsWith("Include " + home.resolve("managed") + "\n"));
  }
}
