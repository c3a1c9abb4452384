/**
 * Loading state for one GET: the data once it arrives, the error in plain words if it fails, and reload() for after
 * a write. A null url loads nothing (the role may not read it, or the url depends on data not loaded yet). Data
 * already shown stays while a new url loads, and an answer that arrives after a newer request started is dropped, so
 * a slow old answer never overwrites a new one.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText } from './api.js';

export interface Resource<T> {
  data: T | null;
  error: string;
  reload: () => Promise<void>;
}

export function useResource<T>(url: string | null): Resource<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState('');
  const latest = useRef(0);
  const reload = useCallback(async () => {
    if (url === null) return;
    const request = ++latest.current;
    try {
      const value = await api<T>('GET', url);
      if (request !== latest.current) return;
      setData(value);
      setError('');
    } catch (e) {
      if (request === latest.current) setError(errorText(e));
    }
  }, [url]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, reload };
}
