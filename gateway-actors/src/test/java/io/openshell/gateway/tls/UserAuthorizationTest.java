package io.openshell.gateway.tls;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The path rules of the user check; certificates are covered over real TLS in UserAuthenticationIT. */
class UserAuthorizationTest {
  @Test
  void supervisorRpcsAndNonGrpcPathsPassWithoutACertificate() {
    for (String path : new String[] {"/openshell.v1.OpenShell/ConnectSupervisor", "/openshell.v1.OpenShell/RelayStream",
        "/openshell.v1.OpenShell/PushSandboxLogs", "/healthz", "/connect/ssh"}) {
      assertTrue(UserAuthorization.check(path, Optional.empty()).allowed(), path);
    }
  }

  @Test
  void everyOtherOpenShellRpcNeedsACertificate() {
    for (String method : new String[] {"Health", "CreateSandbox", "DeleteSandbox", "GetSandbox", "ListSandboxes",
        "CreateSshSession", "RevokeSshSession", "ExecSandbox", "GetSandboxLogs", "WatchSandbox", "NoSuchMethod"}) {
      UserAuthorization.Verdict verdict = UserAuthorization.check("/openshell.v1.OpenShell/" + method, Optional.empty());
      assertEquals(16, verdict.grpcStatus(), method);
      assertTrue(verdict.message().startsWith(method + " needs a user client certificate"), verdict.message());
    }
  }
}
