package io.openshell.client.sshsession;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshSessionCacheTest {
  @TempDir
  Path state;

  private static SshSession session(String token, long expiresAtMs) {
    return SshSession.validated("test", "sandbox-id-1", token, "127.0.0.1", 8080, "http", "/connect/ssh", expiresAtMs);
  }

  @Test
  void aStoredSessionIsPrivateAndComesBackForTheSameGatewayAndSandboxOnly() throws Exception {
    Path dir = state.resolve("openshell").resolve("ssh-sessions");
    SshSessionCache cache = new SshSessionCache(dir);
    cache.store("local", "my-box", session("token-1", 0));

    SshSession loaded = cache.load("local", "my-box", System.currentTimeMillis()).orElseThrow();
    assertEquals("token-1", loaded.token());
    assertEquals("sandbox-id-1", loaded.sandboxId());
    assertEquals("/connect/ssh", loaded.connectPath());
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    try (var files = Files.list(dir)) {
      List<Path> all = files.toList();
      assertEquals(1, all.size(), "no temporary files left: " + all);
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(all.get(0))));
    }
    assertTrue(cache.load("http://127.0.0.1:8080", "my-box", 0).isEmpty());
    assertTrue(cache.load("local", "other-box", 0).isEmpty());
  }

  @Test
  void aSessionAboutToExpireIsAMiss() {
    SshSessionCache cache = new SshSessionCache(state);
    long now = 5_000_000;
    cache.store("local", "box", session("soon", now + SshSession.EXPIRY_MARGIN_MS - 1));
    assertTrue(cache.load("local", "box", now).isEmpty());
    cache.store("local", "box", session("later", now + SshSession.EXPIRY_MARGIN_MS + 10_000));
    assertEquals("later", cache.load("local", "box", now).orElseThrow().token());
  }

  @Test
  void anEditedFileOutsideTheContractIsAMissNotAnInjection() throws Exception {
    SshSessionCache cache = new SshSessionCache(state);
    cache.store("local", "box", session("good-token", 0));
    Path file = cache.fileFor("local", "box");
    Files.writeString(file, Files.readString(file).replace("good-token", "evil\\r\\nX-Injected\\: 1"));
    assertTrue(cache.load("local", "box", 0).isEmpty());
    Files.writeString(file, "garbage");
    assertTrue(cache.load("local", "box", 0).isEmpty());
  }

  @Test
  void namesThatSanitiseAlikeStillGetTheirOwnFiles() {
    SshSessionCache cache = new SshSessionCache(state);
    assertNotEquals(cache.fileFor("local", "a/b"), cache.fileFor("local", "a_b"));
    assertTrue(cache.fileFor("http://[::1]:8080", "../../etc").getFileName().toString().matches("[A-Za-z0-9._-]+"));
  }

  @Test
  void sessionsAreMintedOnAMissReusedOnAHitAndReplacedOnDemand() {
    List<String> mints = new ArrayList<>();
    SshSessions sessions = new SshSessions(new SshSessionCache(state), (endpoint, name) -> {
      mints.add(endpoint + " " + name);
      return session("token-" + mints.size(), 0);
    });
    SshSessions.Obtained first = sessions.obtain("local", "http://127.0.0.1:1", "box");
    assertFalse(first.cached());
    SshSessions.Obtained second = sessions.obtain("local", "http://127.0.0.1:1", "box");
    assertTrue(second.cached());
    assertEquals("token-1", second.session().token());
    assertEquals("token-2", sessions.mint("local", "http://127.0.0.1:1", "box").token());
    assertEquals("token-2", sessions.obtain("local", "http://127.0.0.1:1", "box").session().token());
    assertEquals(List.of("http://127.0.0.1:1 box", "http://127.0.0.1:1 box"), mints);
    sessions.forget("local", "box");
    assertFalse(sessions.obtain("local", "http://127.0.0.1:1", "box").cached());
  }
}
