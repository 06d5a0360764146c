package incident

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ParsePoolConfig reads a php-fpm configuration (php-fpm.conf or a
// pool.d file) and returns each pool's listen address as a web server
// names it: a socket path becomes "unix:/path", a bare port "9000" becomes
// "127.0.0.1:9000" and "[::]:9000" or "0.0.0.0:9000" the loopback address
// too, since that is what a local nginx or Apache connects to.
func ParsePoolConfig(r io.Reader, name string) (map[string]string, error) {
	pools := map[string]string{}
	sc := bufio.NewScanner(r) // config lines are short; a long one is an error below
	pool := ""
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			pool = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != "listen" || pool == "" || pool == "global" {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		pools[pool] = ListenAddr(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s:%d: %w", name, n+1, err)
	}
	return pools, nil
}

// ListenAddr turns a php-fpm listen value into the address a local web
// server uses for it.
func ListenAddr(v string) string {
	switch {
	case strings.HasPrefix(v, "/"):
		return "unix:" + v
	case !strings.Contains(v, ":"):
		return "127.0.0.1:" + v
	}
	host, port := v[:strings.LastIndexByte(v, ':')], v[strings.LastIndexByte(v, ':')+1:]
	switch host {
	case "[::]", "0.0.0.0", "*", "":
		return "127.0.0.1:" + port
	}
	return v
}
