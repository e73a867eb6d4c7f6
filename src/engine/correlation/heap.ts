/** A binary min-heap of items by a numeric priority: the correlator's window deadlines. */
export class MinHeap<T> {
  private priorities: number[] = [];
  private items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  push(priority: number, item: T): void {
    const priorities = this.priorities;
    const items = this.items;
    let index = items.length;
    priorities.push(priority);
    items.push(item);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentPriority = priorities[parent] as number;
      if (parentPriority <= priority) break;
      priorities[index] = parentPriority;
      items[index] = items[parent] as T;
      index = parent;
    }
    priorities[index] = priority;
    items[index] = item;
  }

  /** The lowest priority, or +Infinity when empty. */
  peekPriority(): number {
    return this.items.length === 0 ? Number.POSITIVE_INFINITY : (this.priorities[0] as number);
  }

  pop(): { priority: number; item: T } | undefined {
    const items = this.items;
    const priorities = this.priorities;
    if (items.length === 0) return undefined;
    const top = { priority: priorities[0] as number, item: items[0] as T };
    const lastPriority = priorities.pop() as number;
    const lastItem = items.pop() as T;
    const size = items.length;
    if (size > 0) {
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        if (left >= size) break;
        const right = left + 1;
        const child = right < size && (priorities[right] as number) < (priorities[left] as number) ? right : left;
        if ((priorities[child] as number) >= lastPriority) break;
        priorities[index] = priorities[child] as number;
        items[index] = items[child] as T;
        index = child;
      }
      priorities[index] = lastPriority;
      items[index] = lastItem;
    }
    return top;
  }

  clear(): void {
    this.priorities = [];
    this.items = [];
  }
}
