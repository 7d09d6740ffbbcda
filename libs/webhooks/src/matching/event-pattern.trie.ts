import { EVENT_DELIMITER } from '../core/event-pattern.js';

class TrieNode<T> {
  readonly literal = new Map<string, TrieNode<T>>();
  star: TrieNode<T> | null = null;
  globstar: TrieNode<T> | null = null;
  values: T[] = [];

  isEmpty(): boolean {
    return this.values.length === 0 && this.literal.size === 0 && !this.star && !this.globstar;
  }
}

/**
 * A trie of event patterns. A lookup walks the segments of one event name, so its cost depends on the depth of
 * the name and the number of patterns that match it, not on how many patterns are stored.
 */
export class EventPatternTrie<T> {
  private readonly root = new TrieNode<T>();

  add(pattern: string, value: T): void {
    let node = this.root;
    for (const segment of pattern.split(EVENT_DELIMITER)) {
      if (segment === '**') node = node.globstar ??= new TrieNode();
      else if (segment === '*') node = node.star ??= new TrieNode();
      else {
        let next = node.literal.get(segment);
        if (!next) node.literal.set(segment, (next = new TrieNode()));
        node = next;
      }
    }
    node.values.push(value);
  }

  remove(pattern: string, value: T): void {
    const path: Array<[TrieNode<T>, string]> = [];
    let node: TrieNode<T> | null | undefined = this.root;
    for (const segment of pattern.split(EVENT_DELIMITER)) {
      path.push([node, segment]);
      node = segment === '**' ? node.globstar : segment === '*' ? node.star : node.literal.get(segment);
      if (!node) return;
    }
    node.values = node.values.filter((v) => v !== value);
    // Drop nodes left empty so a churn of subscriptions does not grow the trie.
    for (let i = path.length - 1; i >= 0 && node.isEmpty(); i--) {
      const [parent, segment] = path[i]!;
      if (segment === '**') parent.globstar = null;
      else if (segment === '*') parent.star = null;
      else parent.literal.delete(segment);
      node = parent;
    }
  }

  /** Calls `visit` once for each stored value list whose pattern matches `eventName`. */
  match(eventName: string, visit: (values: readonly T[]) => void): void {
    const segments = eventName.split(EVENT_DELIMITER);
    const seen = new Set<TrieNode<T>>();
    // Several `**` in one pattern could reach the same (node, position) many times; visit each once.
    const visited = new Map<TrieNode<T>, Set<number>>();
    const walk = (node: TrieNode<T>, index: number): void => {
      let positions = visited.get(node);
      if (!positions) visited.set(node, (positions = new Set()));
      else if (positions.has(index)) return;
      positions.add(index);
      if (node.globstar) {
        // `**` consumes zero or more segments.
        for (let i = index; i <= segments.length; i++) walk(node.globstar, i);
      }
      if (index === segments.length) {
        if (node.values.length > 0 && !seen.has(node)) {
          seen.add(node);
          visit(node.values);
        }
        return;
      }
      const literal = node.literal.get(segments[index]!);
      if (literal) walk(literal, index + 1);
      if (node.star) walk(node.star, index + 1);
    };
    walk(this.root, 0);
  }
}
