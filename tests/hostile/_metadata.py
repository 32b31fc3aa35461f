# Changes to files outside the scratch folder that Landlock alone lets through: mode, owner,
# dates, extended attributes (by path, by a file descriptor, through a symlink made in the
# scratch folder), and links or renames. Shared by change_metadata.py and the notebook test.
import os

FAMILIES = ("chmod", "chown", "utime", "xattr", "link", "rename", "symlink")


def attempts(family, victim, own, outside):
    """(what, callable) pairs: ``victim`` a classmate's file, ``own`` a file of the student's
    own folder (readable, not writable), ``outside`` a folder outside the scratch."""
    def via_fd(change):
        def run():
            fd = os.open(own, os.O_RDONLY)
            try:
                change(fd)
            finally:
                os.close(fd)
        return run

    def via_symlink(change):
        def run():
            link = os.path.join(os.getcwd(), "to-victim")
            if not os.path.lexists(link):
                os.symlink(victim, link)
            change(link)
        return run
    if family == "chmod":
        change = lambda target: os.chmod(target, 0o4777)
    elif family == "chown":
        change = lambda target: os.chown(target, 65534, 65534)
    elif family == "utime":
        change = lambda target: os.utime(target, (0, 0))
    elif family == "xattr":
        change = lambda target: os.setxattr(target, "user.pwned", b"1")
    else:
        return {"link": [("link out", lambda: os.link(victim, os.path.join(outside, "l"))),
                         ("link in", lambda: os.link(victim, "linked"))],
                "rename": [("rename out", lambda: os.rename(victim, os.path.join(outside, "r"))),
                           ("rename in", lambda: os.rename(victim, "renamed"))],
                "symlink": [("symlink out", lambda: os.symlink(victim,
                                                              os.path.join(outside, "s")))],
                }[family]
    return [("path", lambda: change(victim)), ("fd", via_fd(change)),
            ("symlink", via_symlink(change))]


def state(victim, own, outside):
    """What the attack may change, as seen from inside (stat and listxattr are not confined:
    a call that pretends to succeed is caught here)."""
    def of(path):
        try:
            st = os.lstat(path)
        except OSError:
            return None
        try:
            names = sorted(os.listxattr(path, follow_symlinks=False))
        except OSError:
            names = None
        return st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, st.st_nlink, names
    try:
        listing = sorted(os.listdir(outside))
    except OSError:
        listing = None
    return of(victim), of(own), listing


def attack(family, victim, own, outside):
    """What worked (the names of the attempts that changed something)."""
    worked = []
    for what, run in attempts(family, victim, own, outside):
        before = state(victim, own, outside)
        try:
            run()
        except OSError:
            pass
        if state(victim, own, outside) != before:
            worked.append(what)
    return worked
